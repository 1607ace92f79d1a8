import AirlockCore
import AirlockOS
import Foundation

/// Who the sandbox runs as, on the host and inside.
///
/// Inside, the job is always uid/gid 1000 (`build`), so builds are deterministic. On the host:
/// - **root mode**: the sandbox gets its own range of 65536 unprivileged host ids
///   (`base … base+65535`, never 0), one range per concurrent job, held by a lock file;
/// - **rootless mode**: only the caller's own uid/gid can be mapped, so the job is the caller.
public final class SandboxIdentity: @unchecked Sendable {
    public static let jobID: UInt32 = 1000
    /// First host id of slot 0 in root mode; slots are 65536 ids apart.
    public static let rootModeBase: UInt32 = 1_000_000
    public static let slotCount = 256

    public let uidMap: String
    public let gidMap: String
    public let setupUID: UInt32
    public let setupGID: UInt32
    /// The host uid/gid the job's files are owned by.
    public let hostJobUID: UInt32
    public let hostJobGID: UInt32
    public let rootless: Bool
    /// The slot held in root mode.
    public let slot: Int?
    private var lock: OwnedFD?
    private let lockDir: String?

    private init(
        uidMap: String, gidMap: String, setupUID: UInt32, setupGID: UInt32,
        hostJobUID: UInt32, hostJobGID: UInt32, rootless: Bool, slot: Int?, lock: OwnedFD?,
        lockDir: String? = nil
    ) {
        self.uidMap = uidMap
        self.gidMap = gidMap
        self.setupUID = setupUID
        self.setupGID = setupGID
        self.hostJobUID = hostJobUID
        self.hostJobGID = hostJobGID
        self.rootless = rootless
        self.slot = slot
        self.lock = lock
        self.lockDir = lockDir
    }

    /// Where root mode's slot locks live: host-wide (`/run/airlock/slots`, or
    /// `$AIRLOCK_SLOT_DIR`), not per state directory, so runners with different state
    /// directories (several agents, `airlock run` beside an agent) never share a uid range.
    public static var slotDirectory: String {
        ProcessInfo.processInfo.environment["AIRLOCK_SLOT_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/run/airlock/slots"
    }

    /// Take an identity for one sandbox. Root mode claims a free slot in `slotDirectory`.
    public static func acquire(state: StateDirectory) throws -> SandboxIdentity {
        let uid = geteuid(), gid = getegid()
        if uid != 0 {
            return SandboxIdentity(
                uidMap: "\(jobID) \(uid) 1\n", gidMap: "\(jobID) \(gid) 1\n", setupUID: jobID,
                setupGID: jobID, hostJobUID: uid, hostJobGID: gid, rootless: true, slot: nil, lock: nil)
        }
        let dir = slotDirectory
        do { try PrivateFile.ensureDirectory(dir) } catch {
            throw AirlockError(
                .sandboxSetup, "cannot create the uid-range lock directory \(dir): \(error)",
                hint: "make sure /run is writable by root, or set AIRLOCK_SLOT_DIR to a root-only directory")
        }
        for slot in 0..<slotCount {
            // Lock files stay open between launches (one open file per slot per process); the
            // in-process set keeps two sandboxes of this process off one slot, flock other processes.
            guard let fd = try LockFiles.shared.claim(dir: dir, slot: slot) else { continue }
            if flock(fd.raw, LOCK_EX | LOCK_NB) == 0 {
                let base = rootModeBase + UInt32(slot) * 65536
                let map = "0 \(base) 65536\n"
                return SandboxIdentity(
                    uidMap: map, gidMap: map, setupUID: 0, setupGID: 0, hostJobUID: base + jobID,
                    hostJobGID: base + jobID, rootless: false, slot: slot, lock: fd, lockDir: dir)
            }
            LockFiles.shared.unclaim(dir: dir, slot: slot)
        }
        throw AirlockError(
            .sandboxSetup, "all \(slotCount) sandbox uid ranges under \(dir) are in use",
            hint: "wait for running jobs to finish, or lower the agent's concurrency")
    }

    /// Give the slot back (also done on deinit).
    public func release() {
        if let fd = lock, let dir = lockDir, let slot {
            _ = flock(fd.raw, LOCK_UN)
            LockFiles.shared.unclaim(dir: dir, slot: slot)
        }
        lock = nil
    }

    deinit { release() }
}

/// Open slot lock files of this process, and which slots it is using.
final class LockFiles: @unchecked Sendable {
    static let shared = LockFiles()
    private var files: [String: OwnedFD] = [:]
    private var inUse: Set<String> = []
    private let lock = NSLock()

    /// The open lock file for `slot`, or nil when this process already uses that slot.
    func claim(dir: String, slot: Int) throws -> OwnedFD? {
        let path = "\(dir)/\(slot).lock"
        lock.lock()
        defer { lock.unlock() }
        if inUse.contains(path) { return nil }
        let fd = try files[path] ?? OwnedFD.open(path, O_RDWR | O_CREAT, mode: 0o600)
        files[path] = fd
        inUse.insert(path)
        return fd
    }

    func unclaim(dir: String, slot: Int) {
        lock.lock()
        inUse.remove("\(dir)/\(slot).lock")
        lock.unlock()
    }
}

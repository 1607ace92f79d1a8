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

    private init(uidMap: String, gidMap: String, setupUID: UInt32, setupGID: UInt32,
                 hostJobUID: UInt32, hostJobGID: UInt32, rootless: Bool, slot: Int?, lock: OwnedFD?) {
        self.uidMap = uidMap
        self.gidMap = gidMap
        self.setupUID = setupUID
        self.setupGID = setupGID
        self.hostJobUID = hostJobUID
        self.hostJobGID = hostJobGID
        self.rootless = rootless
        self.slot = slot
        self.lock = lock
    }

    /// Take an identity for one sandbox. Root mode claims a free slot under `state/slots/`.
    public static func acquire(state: StateDirectory) throws -> SandboxIdentity {
        let uid = geteuid(), gid = getegid()
        if uid != 0 {
            return SandboxIdentity(
                uidMap: "\(jobID) \(uid) 1\n", gidMap: "\(jobID) \(gid) 1\n", setupUID: jobID,
                setupGID: jobID, hostJobUID: uid, hostJobGID: gid, rootless: true, slot: nil, lock: nil)
        }
        let dir = try state.ensure("slots")
        for slot in 0..<slotCount {
            let fd = try OwnedFD.open("\(dir)/\(slot).lock", O_RDWR | O_CREAT, mode: 0o600)
            if flock(fd.raw, LOCK_EX | LOCK_NB) == 0 {
                let base = rootModeBase + UInt32(slot) * 65536
                let map = "0 \(base) 65536\n"
                return SandboxIdentity(
                    uidMap: map, gidMap: map, setupUID: 0, setupGID: 0, hostJobUID: base + jobID,
                    hostJobGID: base + jobID, rootless: false, slot: slot, lock: fd)
            }
        }
        throw AirlockError(.sandboxSetup, "all \(slotCount) sandbox uid ranges under \(dir) are in use",
            hint: "wait for running jobs to finish, or lower the agent's concurrency")
    }

    /// Give the slot back (also done on deinit).
    public func release() {
        lock?.close()
        lock = nil
    }

    deinit { release() }
}

import AirlockCore
import AirlockOS
import Foundation

/// The out dir of one run, holding only that run's files.
///
/// A new or empty out dir is written directly. Over an earlier run's out dir, everything the run
/// writes (the log, the outputs) goes into a fresh staging directory beside it
/// (`.<name>.airlock-p<pid>-XXXXXX`, so a killed run's leftover is recognised and removed by the
/// next one), and `commit()` swaps it in with `renameat2(RENAME_EXCHANGE)` and removes what was
/// there. An existing out dir is replaced only when Airlock made it (it holds the marker file
/// `.airlock-out`) or it is empty: a directory with anyone else's files is refused before the
/// job starts, so nobody's files are ever deleted.
public final class OutDirectory: @unchecked Sendable {
    /// The file that marks a directory as an Airlock out dir.
    public static let marker = ".airlock-out"

    /// Where the run's files end up.
    public let path: String
    /// Where they are written until `commit()`.
    public let staging: String
    private let parent: String
    /// Whether `prepare` created `path` itself (written directly, removed by `discard`).
    private let created: Bool
    private var done = false

    private init(path: String, staging: String, parent: String, created: Bool) {
        self.path = path
        self.staging = staging
        self.parent = parent
        self.created = created
    }

    /// Whether the run writes into `path` itself (it was new or empty).
    var isDirect: Bool { staging == path }

    /// Check `path` and make the staging directory beside it.
    public static func prepare(_ path: String) throws -> OutDirectory {
        let final = (path as NSString).standardizingPath
        let parent = (final as NSString).deletingLastPathComponent
        let name = (final as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw AirlockError(
                .usage, "cannot create the output directory \(final): \(error.localizedDescription)",
                hint: "choose a writable directory with --out")
        }
        let empty = try checkReplaceable(final)
        if empty != false {
            if empty == nil && mkdir(final, 0o755) != 0 {
                throw AirlockError(
                    .usage, "cannot create the output directory \(final): \(OSError("mkdir", final))",
                    hint: "choose a writable directory with --out")
            }
            try? PrivateFile.createNew(final + "/" + marker, contents: [], mode: 0o644, sync: false)
            return OutDirectory(path: final, staging: final, parent: parent, created: empty == nil)
        }
        removeStale(parent: parent, name: name)
        var template = Array("\(parent)/.\(name).airlock-p\(getpid())-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else {
            throw AirlockError(
                .usage, "cannot create a directory beside the output directory \(final): \(OSError("mkdtemp", parent))",
                hint: "choose a writable directory with --out")
        }
        let staging = String(cString: p)
        _ = chmod(staging, 0o755)
        try? PrivateFile.createNew(staging + "/" + marker, contents: [], mode: 0o644, sync: false)
        return OutDirectory(path: final, staging: staging, parent: parent, created: false)
    }

    /// Refuse an out dir that exists and is not an empty directory or one Airlock made. Returns
    /// nil when there is none, true when it is empty, false when it holds an earlier run.
    @discardableResult
    static func checkReplaceable(_ final: String) throws -> Bool? {
        var st = stat()
        guard lstat(final, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw AirlockError(
                .usage, "the output directory \(final) exists and is not a directory (or is a symlink)",
                hint: "choose another path with --out, or remove \(final)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: final)) ?? []
        var mst = stat()
        let ours = lstat(final + "/" + marker, &mst) == 0 && (mst.st_mode & S_IFMT) == S_IFREG
        guard entries.isEmpty || ours else {
            throw AirlockError(
                .usage,
                "the output directory \(final) already holds files Airlock did not write; refusing to replace them",
                hint: "choose a new or empty directory with --out, or remove \(final) yourself")
        }
        return entries.isEmpty
    }

    /// Swap the staging directory in (idempotent). What was at `path` before is removed.
    public func commit() throws {
        guard !done else { return }
        if isDirect {
            done = true
            return
        }
        let dir = try ConfinedDirectory.open(parent)
        let stagingName = (staging as NSString).lastPathComponent
        let name = (path as NSString).lastPathComponent
        try Self.checkReplaceable(path)
        if try dir.status(name) == nil {
            try dir.rename(stagingName, to: dir, name)
        } else {
            try dir.exchange(stagingName, with: dir, name)
            try dir.remove(stagingName)
        }
        done = true
    }

    /// Remove the staging directory without touching `path` (a run that could not start).
    public func discard() {
        guard !done else { return }
        done = true
        if isDirect && !created {
            // An empty directory we were given: empty again.
            if let dir = try? ConfinedDirectory.open(path), let names = try? dir.entries() {
                for n in names { try? dir.remove(n) }
            }
            return
        }
        try? ConfinedDirectory.open(parent).remove((staging as NSString).lastPathComponent)
    }

    /// Leftover staging directories of runs whose process is gone.
    static func removeStale(parent: String, name: String) {
        let prefix = ".\(name).airlock-p"
        guard let dir = try? ConfinedDirectory.open(parent), let entries = try? dir.entries() else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            let rest = entry.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? dir.remove(entry)
        }
    }
}

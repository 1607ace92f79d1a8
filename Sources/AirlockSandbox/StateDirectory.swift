import AirlockCore
import Foundation

/// Where the runner keeps state no sandbox can see: uid-slot locks, keys, journals, workspaces.
///
/// `AIRLOCK_STATE_DIR` overrides; otherwise `/var/lib/airlock` as root and
/// `$XDG_STATE_HOME/airlock` (or `~/.local/state/airlock`, or `/tmp/airlock-<uid>`) as a user.
/// The directory is created 0700.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public static func resolve(environment env: [String: String] = ProcessInfo.processInfo.environment) throws
        -> StateDirectory
    {
        let path: String
        if let p = env["AIRLOCK_STATE_DIR"], !p.isEmpty {
            path = p
        } else if geteuid() == 0 {
            path = "/var/lib/airlock"
        } else if let x = env["XDG_STATE_HOME"], !x.isEmpty {
            path = x + "/airlock"
        } else if let h = env["HOME"], !h.isEmpty, FileManager.default.isWritableFile(atPath: h) {
            path = h + "/.local/state/airlock"
        } else {
            path = "/tmp/airlock-\(geteuid())"
        }
        let dir = StateDirectory(path: path)
        try dir.ensure(path)
        return dir
    }

    /// Create `sub` (relative, or absolute under the state dir) with mode 0700, owned by us.
    @discardableResult
    public func ensure(_ sub: String) throws -> String {
        let full = sub.hasPrefix("/") ? sub : path + "/" + sub
        do {
            try FileManager.default.createDirectory(
                atPath: full, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AirlockError(
                .hostUnsupported, "cannot create the state directory \(full)",
                hint: "set AIRLOCK_STATE_DIR to a writable directory", cause: ErrorText("\(error)"))
        }
        return full
    }
}

extension StateDirectory {
    /// Creates `<state>/<relative>` and the directories between (0700) for a cache, but never
    /// the state directory itself: a cache written after its state directory was removed (a
    /// test's temporary one) fails instead of bringing it back. Returns the full path, or nil.
    public func cacheDirectory(_ relative: String) -> String? {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
        var dir = path
        for part in relative.split(separator: "/") {
            dir += "/" + part
            if mkdir(dir, 0o700) != 0, errno != EEXIST { return nil }
            guard lstat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == geteuid() else { return nil }
        }
        return dir
    }
}

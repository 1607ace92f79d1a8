import AirlockCore
import AirlockOS
import Foundation

/// A job's disposable workspace on the host, bound read-write at `/workspace`.
///
/// Lives under `<state>/workspaces/` (mode 0711: traversable by the sandbox's unprivileged host
/// uid, not listable), is owned by the job's host uid, and is removed by `remove()` on every path.
public final class Workspace: @unchecked Sendable {
    public let path: String
    private var removed = false

    private init(path: String) { self.path = path }

    /// Create an empty workspace owned by `identity`'s job uid.
    public static func create(state: StateDirectory, name: String, identity: SandboxIdentity) throws -> Workspace {
        _ = chmod(state.path, 0o711)
        let parent = try state.ensure("workspaces")
        _ = chmod(parent, 0o711)
        let safe = String(
            name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }.prefix(64))
        var template = Array("\(parent)/\(safe)-p\(getpid())-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw OSError("mkdtemp", parent) }
        let ws = Workspace(path: String(cString: p))
        if lchown(ws.path, identity.hostJobUID, identity.hostJobGID) != 0 {
            let e = OSError("lchown", ws.path)
            ws.remove()
            throw AirlockError(.sandboxSetup, "cannot hand the workspace to the sandbox: \(e)")
        }
        return ws
    }

    /// Remove workspaces whose runner process is gone (killed before it could clean up).
    /// Workspace names carry the creating pid: `<job>-p<pid>-XXXXXX`.
    public static func removeStale(state: StateDirectory) {
        let parent = state.path + "/workspaces"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
            let parts = name.split(separator: "-")
            guard parts.count >= 3, parts[parts.count - 2].hasPrefix("p"),
                let pid = Int32(parts[parts.count - 2].dropFirst()),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            Workspace(path: parent + "/" + name).remove()
        }
    }

    /// Copy `source` (file or directory) to `relative` inside the workspace, then give it to the job.
    public func add(_ source: String, as relative: String, identity: SandboxIdentity) throws {
        let dest = path + "/" + relative
        let parent = (dest as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        if FileManager.default.fileExists(atPath: dest) { try FileManager.default.removeItem(atPath: dest) }
        try FileManager.default.copyItem(atPath: source, toPath: dest)
        try Workspace.chownTree(path, uid: identity.hostJobUID, gid: identity.hostJobGID)
    }

    /// Recursively change ownership without following symlinks.
    public static func chownTree(_ root: String, uid: UInt32, gid: UInt32) throws {
        if geteuid() != 0 { return }  // rootless: everything is already ours
        if lchown(root, uid, gid) != 0 { throw OSError("lchown", root) }
        guard let e = FileManager.default.enumerator(atPath: root) else { return }
        for case let rel as String in e {
            let p = root + "/" + rel
            if lchown(p, uid, gid) != 0 { throw OSError("lchown", p) }
        }
    }

    /// Delete the workspace (idempotent). Files the job made read-only are made writable first.
    public func remove() {
        if removed { return }
        removed = true
        if (try? FileManager.default.removeItem(atPath: path)) == nil {
            _ = try? Process.run(URL(fileURLWithPath: "/bin/chmod"), arguments: ["-R", "u+rwx", path]).waitUntilExit()
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    deinit { remove() }
}

extension Workspace {
    /// Lend an existing host directory to a sandbox as its workspace. In root mode the tree is
    /// handed to the sandbox's host uid for the run and back to the directory's owner afterwards
    /// (call the returned closure on every path). Rootless, nothing changes hands.
    public static func lend(_ dir: String, to identity: SandboxIdentity) throws -> () -> Void {
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw AirlockError(
                .missingFile, "workspace '\(dir)' is not a directory",
                hint: "create it first, or omit --workspace for a fresh one")
        }
        if identity.rootless { return {} }
        let (uid, gid) = (st.st_uid, st.st_gid)
        try chownTree(dir, uid: identity.hostJobUID, gid: identity.hostJobGID)
        return { try? chownTree(dir, uid: uid, gid: gid) }
    }
}

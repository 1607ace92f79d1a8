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
    /// Whether `path` is a file system of its own (mounted by `create`).
    private var mounted = false

    private init(path: String) { self.path = path }

    /// Create an empty workspace owned by `identity`'s job uid. With `sizeLimit` in root mode the
    /// workspace is its own file system of that size (a tmpfs: the job gets `ENOSPC` past it, and
    /// its pages count against the job's memory limit); rootless, the limit caps only the outputs.
    public static func create(
        state: StateDirectory, name: String, identity: SandboxIdentity, sizeLimit: UInt64? = nil
    ) throws -> Workspace {
        _ = chmod(state.path, 0o711)
        let parent = try state.ensure("workspaces")
        _ = chmod(parent, 0o711)
        let safe = String(
            name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }.prefix(64))
        var template = Array("\(parent)/\(safe)-p\(getpid())-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw OSError("mkdtemp", parent) }
        let ws = Workspace(path: String(cString: p))
        if let size = sizeLimit, !identity.rootless {
            do {
                try HostMount.tmpfs(
                    at: ws.path, size: size, mode: 0o755, uid: identity.hostJobUID, gid: identity.hostJobGID)
                ws.mounted = true
            } catch {
                ws.remove()
                throw AirlockError(
                    .sandboxSetup, "cannot make the job's workspace file system: \(error)",
                    hint: "lower the profile's limits.workspace or the job's resources.workspace, or free memory")
            }
        }
        if lchown(ws.path, identity.hostJobUID, identity.hostJobGID) != 0 {
            let e = OSError("lchown", ws.path)
            ws.remove()
            throw AirlockError(
                .sandboxSetup, "cannot hand the workspace to the sandbox: \(e)",
                hint: "the state directory must be on a local file system that supports chown (AIRLOCK_STATE_DIR)")
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

    /// Copy the input `relative` from `jobDir` into the same place in the workspace, giving it
    /// to the job's uid. The source is opened beneath `jobDir` (symlinks only if they stay
    /// inside it); the destination's parents are created by descriptor and nothing that exists
    /// is replaced. Modes (minus set-id bits) and mtimes are kept, so `make` sees the inputs as
    /// they were. Returns the newest mtime copied.
    @discardableResult
    public func add(_ relative: String, from jobDir: ConfinedDirectory, identity: SandboxIdentity) throws -> Int64 {
        let parts = relative.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
        guard let last = parts.last, !parts.contains("..") else {
            throw OSError(
                "openat2", jobDir.path + "/" + relative, errno: EXDEV, hint: "inputs stay inside the job's directory")
        }
        let pinned = try jobDir.pin(relative, resolve: ConfinedDirectory.beneath)
        var st = stat()
        guard fstat(pinned.raw, &st) == 0 else { throw OSError("fstat", jobDir.path + "/" + relative) }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else {
            throw OSError(
                "open", jobDir.path + "/" + relative, errno: EINVAL, hint: "an input must be a file or a directory")
        }
        // Reopen for reading the same way, and make sure it is the inode that was checked.
        let source = try jobDir.open(
            relative, O_RDONLY | O_NOCTTY | (kind == S_IFDIR ? O_DIRECTORY : 0), resolve: ConfinedDirectory.beneath)
        var again = stat()
        guard fstat(source.raw, &again) == 0, again.st_ino == st.st_ino, again.st_dev == st.st_dev else {
            throw OSError(
                "open", jobDir.path + "/" + relative, errno: ESTALE, hint: "the input changed while it was copied")
        }
        let root = try ConfinedDirectory.open(path)
        let owner: (uid_t, gid_t)? = identity.rootless ? nil : (identity.hostJobUID, identity.hostJobGID)
        let parent = try root.makeDirectories(Array(parts.dropLast()), mode: 0o755)
        if let o = owner {
            var dir = root
            for c in parts.dropLast() {
                dir = try dir.openDirectory(c)
                _ = fchown(dir.fd.raw, o.0, o.1)
            }
        }
        if try parent.status(last) != nil {
            throw OSError("copy", relative, errno: EEXIST, hint: "two inputs overlap; list each path once")
        }
        let copier = TreeCopier()
        copier.owner = owner
        try copier.copy(opened: source, status: st, to: parent, as: last)
        return max(copier.stats.newestMTime, Int64(st.st_mtim.tv_sec))
    }

    /// Delete the workspace (idempotent), by descriptor and however deep the job made it.
    public func remove() {
        if removed { return }
        removed = true
        let parent = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        do {
            if mounted || HostMount.isMountPoint(path) { try HostMount.detach(path) }
            try ConfinedDirectory.open(parent).remove(name)
        } catch {
            FileHandle.standardError.write(
                Data("airlock: warning: cannot remove the workspace \(path): \(error)\n".utf8))
        }
    }

    deinit { remove() }
}

extension Workspace {
    /// Lend an existing host directory to a sandbox as its workspace. In root mode what its
    /// owner owns in it is handed to the sandbox's host uid for the run, and what the sandbox's
    /// uid owns afterwards is handed back to the owner (call the returned closure on every path,
    /// after the sandbox is gone). Both walks go by descriptor and check each entry's owner on a
    /// pinned descriptor, so the owner swapping a subdirectory for a symlink mid-walk
    /// (`renameat2(RENAME_EXCHANGE)`) cannot get a file outside the directory chowned. Rootless,
    /// nothing changes hands.
    public static func lend(_ dir: String, to identity: SandboxIdentity) throws -> () -> Void {
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw AirlockError(
                .missingFile, "workspace '\(dir)' is not a directory",
                hint: "create it first, or omit --workspace for a fresh one")
        }
        if identity.rootless { return {} }
        let (uid, gid) = (st.st_uid, st.st_gid)
        let root = try ConfinedDirectory.open(dir)
        let job = identity.hostJobUID
        do {
            try root.changeOwner(uid: job, gid: identity.hostJobGID) { $0 == uid }
        } catch {
            try? root.changeOwner(uid: uid, gid: gid) { $0 == job }
            throw AirlockError(
                .sandboxSetup, "cannot lend the workspace \(dir) to the sandbox: \(error)",
                hint: "--workspace must be a directory you own on a local file system")
        }
        return {
            do { try root.changeOwner(uid: uid, gid: gid) { $0 == job } } catch {
                FileHandle.standardError.write(
                    Data("airlock: warning: could not hand all of \(dir) back to uid \(uid): \(error)\n".utf8))
            }
        }
    }

    /// Give the tree at `dir` (a fetched checkout) to `uid:gid`: every entry `from` owns.
    public static func handOver(_ dir: String, from: uid_t, to uid: uid_t, gid: gid_t) throws {
        try ConfinedDirectory.open(dir).changeOwner(uid: uid, gid: gid) { $0 == from }
    }
}

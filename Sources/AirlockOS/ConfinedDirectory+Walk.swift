import CAirlockShims
import Glibc

/// A depth-unlimited walk of a job-controlled tree, by descriptor.
///
/// The walk holds at most `ConfinedWalk.openLevels` directory descriptors: deeper levels close
/// their ancestors' and climb back with `openat(child, "..")`, checking that the directory
/// reached is the one left (device and inode). A tree renamed or swapped under the walk therefore
/// stops it with an error instead of leading it outside; a 2,100-level tree is no harder than a
/// flat one. Nothing is ever followed: each directory is opened `O_NOFOLLOW | O_DIRECTORY` from
/// its parent's descriptor and must be the inode that `fstatat` saw.
public enum ConfinedWalk {
    /// Directory descriptors kept open along the current path before ancestors are closed.
    static let openLevels = 32

    /// What to do with a directory the visitor has seen.
    public enum Action { case descend, skip }

    /// One entry: the descriptor of the directory holding it, its name, its `lstat`, and its path
    /// relative to the walk's root (for messages).
    public struct Entry {
        public let parent: Int32
        public let name: String
        public let status: stat
        public let relative: String
        public var isDirectory: Bool { (status.st_mode & S_IFMT) == S_IFDIR }
    }

    private final class Level {
        var fd: OwnedFD?
        let dev: UInt
        let ino: UInt
        let name: String
        let relative: String
        var pending: [String]
        init(fd: OwnedFD, st: stat, name: String, relative: String, pending: [String]) {
            self.fd = fd
            dev = UInt(st.st_dev)
            ino = UInt(st.st_ino)
            self.name = name
            self.relative = relative
            self.pending = pending
        }
    }

    /// Visit every entry below `root` in pre-order (`visit`; return `.descend` to enter a
    /// directory) and every entered directory again after its contents (`leave`, with its
    /// parent's descriptor — where `unlinkat(AT_REMOVEDIR)` of it belongs).
    public static func walk(
        _ root: ConfinedDirectory, visit: (Entry) throws -> Action, leave: (Entry) throws -> Void = { _ in }
    ) throws {
        let rootStat = try root.status()
        let rootFD = OwnedFD(fcntl(root.fd.raw, F_DUPFD_CLOEXEC, 0))
        if rootFD.raw < 0 { throw OSError("dup", root.path) }
        var stack = [
            Level(fd: rootFD, st: rootStat, name: "", relative: "", pending: try root.entries().reversed())
        ]
        while let top = stack.last {
            guard let name = top.pending.popLast() else {
                stack.removeLast()
                guard let parent = stack.last else { break }
                let parentFD = try reopen(parent, from: top, root: root)
                try leave(
                    Entry(
                        parent: parentFD.raw, name: top.name, status: try statusOf(top), relative: top.relative))
                continue
            }
            guard let dirFD = top.fd else { throw OSError("walk", root.path, errno: EBADF) }
            var st = stat()
            if fstatat(dirFD.raw, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
                if airlock_errno() == ENOENT { continue }
                throw OSError("fstatat", join(root.path, top.relative, name))
            }
            let rel = top.relative.isEmpty ? name : top.relative + "/" + name
            let entry = Entry(parent: dirFD.raw, name: name, status: st, relative: rel)
            guard try visit(entry) == .descend, entry.isDirectory else { continue }
            let child = openat(dirFD.raw, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child < 0 { throw OSError("openat", join(root.path, top.relative, name)) }
            let childFD = OwnedFD(child)
            var cst = stat()
            guard fstat(child, &cst) == 0, cst.st_dev == st.st_dev, cst.st_ino == st.st_ino else {
                throw OSError(
                    "walk", join(root.path, top.relative, name), errno: ESTALE, hint: "the tree changed during the walk"
                )
            }
            let level = Level(
                fd: childFD, st: cst, name: name, relative: rel,
                pending: try ConfinedDirectory(fd: childFD, path: rel).entries().reversed())
            stack.append(level)
            if stack.count > openLevels { stack[stack.count - openLevels - 1].fd = nil }
        }
    }

    /// The parent's descriptor, reopened through `..` from `child` when it was closed, and checked.
    private static func reopen(_ parent: Level, from child: Level, root: ConfinedDirectory) throws -> OwnedFD {
        if let fd = parent.fd { return fd }
        guard let childFD = child.fd else { throw OSError("walk", root.path, errno: EBADF) }
        let up = openat(childFD.raw, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if up < 0 { throw OSError("openat", join(root.path, child.relative, "..")) }
        let fd = OwnedFD(up)
        var st = stat()
        guard fstat(up, &st) == 0, UInt(st.st_dev) == parent.dev, UInt(st.st_ino) == parent.ino else {
            throw OSError(
                "walk", join(root.path, parent.relative, ""), errno: ESTALE, hint: "the tree was moved during the walk")
        }
        parent.fd = fd
        return fd
    }

    private static func statusOf(_ level: Level) throws -> stat {
        var st = stat()
        if let fd = level.fd, fstat(fd.raw, &st) == 0 { return st }
        throw OSError("fstat", level.relative)
    }

    /// `chmod u+rwx` of the directory `name` in `dir` without following a symlink: pinned with
    /// `AIRLOCK_O_PATH | O_NOFOLLOW`, changed through its `/proc/self/fd` link (which names that inode).
    /// Only rootless mode needs it (root is not stopped by a read-only directory).
    static func makeOwnerWritable(_ dir: Int32, _ name: String) {
        if geteuid() == 0 { return }
        let fd = openat(dir, name, AIRLOCK_O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return }
        _ = chmod("/proc/self/fd/\(fd)", (st.st_mode & 0o7777) | 0o700)
    }

    static func join(_ root: String, _ rel: String, _ name: String) -> String {
        [root, rel, name].filter { !$0.isEmpty }.joined(separator: "/")
    }
}

extension ConfinedDirectory {
    /// Delete everything in this directory, however deep, without following anything.
    /// Directories the job made read-only are made writable first (rootless mode needs that).
    public func removeContents() throws {
        try ConfinedWalk.walk(
            self,
            visit: { e in
                if e.isDirectory {
                    if (e.status.st_mode & 0o700) != 0o700 { ConfinedWalk.makeOwnerWritable(e.parent, e.name) }
                    return .descend
                }
                if unlinkat(e.parent, e.name, 0) != 0 && airlock_errno() != ENOENT {
                    throw OSError("unlinkat", self.display(e.relative))
                }
                return .skip
            },
            leave: { e in
                if unlinkat(e.parent, e.name, AT_REMOVEDIR) != 0 && airlock_errno() != ENOENT {
                    throw OSError("unlinkat", self.display(e.relative))
                }
            })
    }

    /// Delete `name` (a file, a symlink or a whole tree) from this directory.
    public func remove(_ name: String) throws {
        guard let st = try status(name) else { return }
        if (st.st_mode & S_IFMT) != S_IFDIR {
            try unlink(name)
            return
        }
        if (st.st_mode & 0o700) != 0o700 { ConfinedWalk.makeOwnerWritable(fd.raw, name) }
        try openDirectory(name).removeContents()
        if unlinkat(fd.raw, name, AT_REMOVEDIR) != 0 { throw OSError("unlinkat", display(name)) }
    }

    /// Give every entry of this tree (and the directory itself) that `owned` accepts to
    /// `uid:gid`. Each entry is pinned with `AIRLOCK_O_PATH | O_NOFOLLOW` first and its owner checked on
    /// that descriptor, so a name swapped for a symlink or a hard link during the walk changes
    /// only what was checked. Used to lend a directory to a sandbox and to hand it back.
    public func changeOwner(uid: uid_t, gid: gid_t, where owned: (uid_t) -> Bool) throws {
        func chown(_ dir: Int32, _ name: String, _ shown: String) throws {
            let fd = openat(dir, name, AIRLOCK_O_PATH | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 {
                if airlock_errno() == ENOENT { return }
                throw OSError("openat", shown)
            }
            defer { Glibc.close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw OSError("fstat", shown) }
            guard owned(st.st_uid), st.st_uid != uid || st.st_gid != gid else { return }
            if fchownat(fd, "", uid, gid, AIRLOCK_AT_EMPTY_PATH) != 0 { throw OSError("fchownat", shown) }
        }
        try chown(fd.raw, ".", path)
        try ConfinedWalk.walk(self) { e in
            try chown(e.parent, e.name, self.display(e.relative))
            return .descend
        }
    }
}

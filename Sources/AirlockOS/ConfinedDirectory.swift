import CAirlockShims
import Glibc

/// A directory held open by descriptor. Every operation on a name inside it is relative to that
/// descriptor and never follows a symlink, so a tree a job controls (its workspace, its outputs,
/// a lent directory, a fetched checkout) cannot steer the privileged runner outside it.
///
/// Multi-component paths are resolved with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS)`: a `..` that climbs out fails with `EXDEV`, a symlink anywhere on the
/// path with `ELOOP`. Single names go to the `*at` calls with `AT_SYMLINK_NOFOLLOW` / `O_NOFOLLOW`.
/// `path` is only for messages; nothing here resolves it again after `open`.
public final class ConfinedDirectory: @unchecked Sendable {
    public let fd: OwnedFD
    /// Where this directory was when it was opened (for messages only).
    public let path: String

    public init(fd: OwnedFD, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Resolve flags for a path inside a job-controlled tree: beneath the directory, no symlinks.
    public static let strict: UInt64 =
        AIRLOCK_RESOLVE_BENEATH | AIRLOCK_RESOLVE_NO_SYMLINKS | AIRLOCK_RESOLVE_NO_MAGICLINKS
    /// Beneath the directory, following only symlinks that stay beneath it (job inputs).
    public static let beneath: UInt64 = AIRLOCK_RESOLVE_BENEATH | AIRLOCK_RESOLVE_NO_MAGICLINKS

    /// Open a directory the runner chose itself (a state directory, the out dir's parent).
    public static func open(_ path: String) throws -> ConfinedDirectory {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw OSError("open", path) }
        return ConfinedDirectory(fd: OwnedFD(fd), path: path)
    }

    func display(_ relative: String) -> String { relative.isEmpty ? path : path + "/" + relative }

    /// `openat2` of `relative` below this directory (close-on-exec is always added).
    public func open(_ relative: String, _ flags: Int32, mode: mode_t = 0o600, resolve: UInt64 = strict) throws
        -> OwnedFD
    {
        let opened = retryingEINTR { airlock_openat2(fd.raw, relative, flags, UInt32(mode), resolve) }
        if opened < 0 {
            let e = airlock_errno()
            let hint: String? =
                e == ELOOP
                ? "a symlink on the way is not followed"
                : e == EXDEV ? "the path leads outside \(path)" : nil
            throw OSError("openat2", display(relative), errno: e, hint: hint)
        }
        return OwnedFD(opened)
    }

    /// An `O_PATH` descriptor for `relative`: names the inode without opening it (no side
    /// effects on fifos or devices), for `fstat` before deciding what to do with it.
    public func pin(_ relative: String, resolve: UInt64 = strict) throws -> OwnedFD {
        try open(relative, AIRLOCK_O_PATH, resolve: resolve)
    }

    /// Open the directory `relative` below this one (no symlinks on the way, none at the end).
    public func openDirectory(_ relative: String, resolve: UInt64 = strict) throws -> ConfinedDirectory {
        let fd = try open(relative, O_RDONLY | O_DIRECTORY, resolve: resolve)
        return ConfinedDirectory(fd: fd, path: display(relative))
    }

    /// `lstat` of one name in this directory, or nil when it does not exist.
    public func status(_ name: String) throws -> stat? {
        var st = stat()
        if fstatat(fd.raw, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        let e = airlock_errno()
        if e == ENOENT { return nil }
        throw OSError("fstatat", display(name), errno: e)
    }

    /// `fstat` of this directory itself.
    public func status() throws -> stat {
        var st = stat()
        if fstat(fd.raw, &st) != 0 { throw OSError("fstat", path) }
        return st
    }

    /// The names in this directory (without `.` and `..`), sorted bytewise.
    public func entries() throws -> [String] {
        guard let dir = airlock_opendir_fd(fd.raw) else { throw OSError("opendir", path) }
        defer { airlock_closedir(dir) }
        var names: [String] = []
        while let name = airlock_readdir_name(dir, nil) {
            names.append(String(cString: name))
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    /// `mkdirat` one name; `EEXIST` is an error unless `existingOK` (and then it must be a directory).
    public func makeDirectory(_ name: String, mode: mode_t = 0o700, existingOK: Bool = false) throws {
        if mkdirat(fd.raw, name, mode) == 0 { return }
        let e = airlock_errno()
        if e == EEXIST && existingOK, let st = try status(name), (st.st_mode & S_IFMT) == S_IFDIR { return }
        throw OSError("mkdirat", display(name), errno: e)
    }

    /// Create (as needed) and open each directory of `components` in turn, never following a
    /// symlink: an existing symlink or file on the way is an error, not a detour.
    public func makeDirectories(_ components: [String], mode: mode_t = 0o755) throws -> ConfinedDirectory {
        var current = self
        for c in components {
            try current.makeDirectory(c, mode: mode, existingOK: true)
            current = try current.openDirectory(c)
        }
        return current
    }

    /// The target text of the symlink `name`.
    public func readLink(_ name: String) throws -> String {
        var buf = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = buf.withUnsafeMutableBytes {
            readlinkat(fd.raw, name, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
        }
        if n < 0 { throw OSError("readlinkat", display(name)) }
        return String(decoding: buf[..<n], as: UTF8.self)
    }

    /// Create the symlink `name` with the given target text (never replacing anything).
    public func makeSymlink(_ name: String, target: String) throws {
        if symlinkat(target, fd.raw, name) != 0 { throw OSError("symlinkat", display(name)) }
    }

    /// Remove one non-directory name.
    public func unlink(_ name: String) throws {
        if unlinkat(fd.raw, name, 0) != 0 { throw OSError("unlinkat", display(name)) }
    }

    /// Move `name` to `newName` in `target` (same file system); fails if `newName` exists and is
    /// not an empty directory.
    public func rename(_ name: String, to target: ConfinedDirectory, _ newName: String) throws {
        if renameat(fd.raw, name, target.fd.raw, newName) != 0 { throw OSError("renameat", display(name)) }
    }

    /// Swap `name` here with `otherName` in `other`, atomically (`renameat2(RENAME_EXCHANGE)`).
    public func exchange(_ name: String, with other: ConfinedDirectory, _ otherName: String) throws {
        if airlock_rename_exchange(fd.raw, name, other.fd.raw, otherName) != 0 {
            throw OSError("renameat2", display(name) + " <-> " + other.display(otherName))
        }
    }
}

import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// File operations for the runner's private state (signing keys, the secret store's key and
/// sealed secrets, the lease journal). It lives in the OS layer because it makes kernel calls;
/// the domain modules that keep state on disk (AirlockSecrets, AirlockProvenance) reach the disk
/// only through it (see Layers.txt). Every file is created with its final mode in the `open`
/// call itself — never written first and `chmod`ed afterwards, which would leave it briefly
/// readable — and symbolic links are never followed.
public enum PrivateFile {
    /// Makes sure `path` is a directory with exactly `mode` owned by us, creating it (and missing
    /// parents, 0700) if needed. A symbolic link in its place is refused.
    public static func ensureDirectory(_ path: String, mode: mode_t = 0o700) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw AirlockError(
                    .privateFile, "\(path) exists but is not a directory",
                    hint: "move it away; Airlock keeps private state there")
            }
            if st.st_mode & 0o777 != mode {
                guard chmod(path, mode) == 0 else { throw failure("chmod", path, errno) }
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, access(parent, F_OK) != 0 {
            try ensureDirectory(parent, mode: 0o700)
        }
        if mkdir(path, mode) != 0, errno != EEXIST { throw failure("mkdir", path, errno) }
        guard chmod(path, mode) == 0 else { throw failure("chmod", path, errno) }
    }

    /// Creates `path` (which must not exist) with `mode`, writes `contents` and fsyncs (unless
    /// `sync` is false: for files inside a directory that is published by a rename later).
    /// On failure the partial file is removed. Throws with `errno == EEXIST` distinguishable via
    /// `exists`. One inode, no temporary name: unlike `FileManager.createFile`, which writes a
    /// temporary file and renames it (a second inode allocation per file on the agent's hot path).
    public static func createNew(_ path: String, contents: [UInt8], mode: mode_t = 0o600, sync: Bool = true) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", path, errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        // The umask can only clear bits; make the mode exact.
        guard fchmod(fd, mode) == 0 else { throw failure("chmod", path, errno) }
        try writeAll(fd, contents, path: path)
        guard !sync || fsync(fd) == 0 else { throw failure("fsync", path, errno) }
        ok = true
    }

    /// Replaces `path` atomically: writes a new 0600 file next to it, fsyncs, renames it over
    /// `path` and fsyncs the directory. Readers see the old or the new contents, never a mix.
    public static func replace(_ path: String, contents: [UInt8], mode: mode_t = 0o600) throws {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = "\(dir)/.\((path as NSString).lastPathComponent).\(randomHex(8)).tmp"
        try createNew(temp, contents: contents, mode: mode)
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw failure("rename", path, code)
        }
        syncDirectory(dir)
    }

    /// Reads the whole regular file at `path` (not following a symbolic link).
    /// Returns nil when it does not exist.
    public static func readIfExists(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("open", path, errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        defer { zeroize(&chunk) }
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                zeroize(&out)
                throw failure("read", path, errno)
            }
            if n == 0 { break }
            // Grow by hand so a reallocation never leaves an unzeroed copy behind.
            if out.count + n > out.capacity {
                var bigger = [UInt8]()
                bigger.reserveCapacity(max(out.capacity * 2, out.count + n))
                bigger.append(contentsOf: out)
                zeroize(&out)
                out = bigger
            }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Appends `line` (which ends in a newline) to `path` (created 0600 if missing) under an
    /// exclusive lock on `lockPath`, and fsyncs before returning. If the file ends in a torn
    /// line (no newline), a newline is written first.
    public static func appendLine(_ path: String, _ line: [UInt8], lockPath: String) throws {
        try withLock(lockPath) {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw failure("open", path, errno) }
            defer { close(fd) }
            // A crash mid-write can leave a last line without its newline; start on a fresh
            // line so that fragment does not swallow this one.
            var st = stat()
            var lastByte: UInt8 = 0x0A
            if fstat(fd, &st) == 0, st.st_size > 0 {
                let rfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                if rfd >= 0 {
                    _ = pread(rfd, &lastByte, 1, st.st_size - 1)
                    close(rfd)
                }
            }
            try writeAll(fd, lastByte == 0x0A ? line : [0x0A] + line, path: path)
            guard fsync(fd) == 0 else { throw failure("fsync", path, errno) }
        }
    }

    /// Runs `body` holding an exclusive `flock` on `lockPath` (created 0600). The lock is shared
    /// by every Airlock process using the same state directory.
    public static func withLock<R>(_ lockPath: String, _ body: () throws -> R) throws -> R {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("open", lockPath, errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            if errno != EINTR { throw failure("flock", lockPath, errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    /// The file's permission bits, or nil if it does not exist.
    public static func mode(_ path: String) -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return st.st_mode & 0o7777
    }

    public static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    public static func writeAll(_ fd: Int32, _ contents: [UInt8], path: String) throws {
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { raw in write(fd, raw.baseAddress! + written, raw.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path, errno)
            }
            written += n
        }
    }

    public static func failure(_ call: String, _ path: String, _ code: Int32) -> AirlockError {
        let reason = String(cString: strerror(code))
        let hint: String
        switch code {
        case EACCES, EPERM: hint = "run as the user that owns Airlock's state directory"
        case ELOOP: hint = "\(path) is a symbolic link; Airlock writes private state only to regular files"
        case ENOSPC, EDQUOT: hint = "free some disk space"
        case EEXIST: hint = "remove or move \(path) first"
        default: hint = "check the path and its permissions"
        }
        return AirlockError(.privateFile, "\(call) \(path) failed: \(reason) (errno \(code))", hint: hint)
    }
}

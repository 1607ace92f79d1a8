import AirlockCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// File creation with the mode fixed at creation time. Foundation's writers create files with
/// the default mode and change it afterwards, which would leave a private key briefly readable
/// by others; these use `open(O_CREAT | O_EXCL, mode)` and `mkdir(mode)` directly.
enum SecureFile {
    /// Create `path` (which must not exist; symlinks are not followed) with `mode`, write
    /// `contents` and fsync. On any failure the partial file is removed.
    static func createNew(_ path: String, contents: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", path, errno) }
        var ok = false
        defer {
            close(fd)
            if !ok { unlink(path) }
        }
        // The umask can only clear bits; set the exact mode (e.g. 0644 for the public key).
        guard fchmod(fd, mode) == 0 else { throw failure("chmod", path, errno) }
        var written = 0
        while written < contents.count {
            let n = contents.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + written, raw.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write", path, errno)
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw failure("fsync", path, errno) }
        ok = true
    }

    /// Create one directory with `mode` (no parents), then set the mode exactly despite the umask.
    static func makeDirectory(_ path: String, mode: mode_t) throws {
        guard mkdir(path, mode) == 0 else { throw failure("mkdir", path, errno) }
        guard chmod(path, mode) == 0 else { throw failure("chmod", path, errno) }
    }

    private static func failure(_ call: String, _ path: String, _ code: Int32) -> AirlockError {
        let reason = String(cString: strerror(code))
        let hint: String
        switch code {
        case EEXIST: hint = "remove or move the existing file first; keys are never overwritten"
        case EACCES, EPERM: hint = "run as a user that may write to \(path)'s directory"
        case ELOOP: hint = "\(path) is a symbolic link; keys are written only to regular files"
        case ENOSPC, EDQUOT: hint = "free some disk space"
        default: hint = "check the path and its permissions"
        }
        return AirlockError(.missingFile, "\(call) \(path) failed: \(reason) (errno \(code))", hint: hint)
    }
}

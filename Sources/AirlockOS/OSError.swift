import CAirlockShims
import Glibc

/// An error from a system call: names the call, the object it worked on, the errno, and the fix
/// when one is known. `AirlockSandbox` wraps it into an `AirlockError` for people.
public struct OSError: Error, CustomStringConvertible, Sendable {
    public var call: String
    public var object: String
    public var errno: Int32
    public var hint: String?

    public init(_ call: String, _ object: String, errno: Int32 = airlock_errno(), hint: String? = nil) {
        self.call = call
        self.object = object
        self.errno = errno
        self.hint = hint
    }

    /// `strerror` text for `errno`.
    public var reason: String { String(cString: strerror(errno)) }

    /// The errno's symbolic name (`EPERM`), when known.
    public var errnoName: String { Errno.name(errno) }

    public var description: String {
        var s = "\(call)(\(object)) failed: \(reason) (\(errnoName))"
        if let hint { s += "; \(hint)" }
        return s
    }
}

/// Symbolic errno names for messages and profiles.
public enum Errno {
    static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 9: "EBADF", 11: "EAGAIN",
        12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 20: "ENOTDIR",
        21: "EISDIR", 22: "EINVAL", 24: "EMFILE", 28: "ENOSPC", 30: "EROFS", 36: "ENAMETOOLONG",
        38: "ENOSYS", 39: "ENOTEMPTY", 71: "EPROTO", 75: "EOVERFLOW", 95: "EOPNOTSUPP", 97: "EAFNOSUPPORT",
        101: "ENETUNREACH", 111: "ECONNREFUSED",
    ]
    /// `EPERM` for 1, `errno 123` for unknown values.
    public static func name(_ e: Int32) -> String { names[e] ?? "errno \(e)" }
}

/// Retry a call that may fail with EINTR.
@inlinable
public func retryingEINTR<T: BinaryInteger>(_ body: () -> T) -> T {
    while true {
        let r = body()
        if r >= 0 || airlock_errno() != EINTR { return r }
    }
}

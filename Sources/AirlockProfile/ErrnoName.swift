/// Linux errno names and numbers (the generic table used by x86_64 and arm64), for seccomp
/// `errno` actions written by name.
public enum ErrnoName {
    /// Name → number. Covers the values a seccomp profile plausibly returns.
    public static let table: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
        "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "EWOULDBLOCK": 11, "ENOMEM": 12,
        "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19,
        "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25,
        "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30, "EMLINK": 31,
        "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "EDEADLK": 35, "ENAMETOOLONG": 36, "ENOLCK": 37,
        "ENOSYS": 38, "ENOTEMPTY": 39, "ELOOP": 40, "ENOMSG": 42, "ENODATA": 61, "ENOTSOCK": 88,
        "EPROTOTYPE": 91, "ENOPROTOOPT": 92, "EPROTONOSUPPORT": 93, "ESOCKTNOSUPPORT": 94,
        "EOPNOTSUPP": 95, "ENOTSUP": 95, "EPFNOSUPPORT": 96, "EAFNOSUPPORT": 97, "EADDRINUSE": 98,
        "EADDRNOTAVAIL": 99, "ENETDOWN": 100, "ENETUNREACH": 101, "ECONNREFUSED": 111,
        "EHOSTUNREACH": 113, "ETIMEDOUT": 110, "EKEYREJECTED": 129,
    ]

    /// The number for `name` (`EPERM` → 1), or `nil`.
    public static func number(_ name: String) -> Int32? { table[name.uppercased()] }

    /// The preferred name for `number` (1 → `EPERM`), or `nil` when it has none in the table.
    public static func name(_ number: Int32) -> String? {
        let preferred = ["EAGAIN", "EOPNOTSUPP"]
        let names = table.filter { $0.value == number }.map(\.key).sorted()
        return names.first(where: preferred.contains) ?? names.first
    }

    /// The largest errno the kernel passes back from a seccomp `errno` action.
    public static let maximum: Int32 = 4095
}

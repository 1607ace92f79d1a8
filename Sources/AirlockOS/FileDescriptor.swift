import CAirlockShims
import Glibc

/// A file descriptor this process owns; closed exactly once, on `close()` or deinit.
public final class OwnedFD: @unchecked Sendable {
    public private(set) var raw: Int32

    public init(_ raw: Int32) { self.raw = raw }

    deinit { close() }

    /// Close now (idempotent).
    public func close() {
        if raw >= 0 {
            _ = Glibc.close(raw)
            raw = -1
        }
    }

    /// Give up ownership without closing.
    public func release() -> Int32 {
        let r = raw
        raw = -1
        return r
    }

    /// A new close-on-exec pipe: (read end, write end).
    public static func pipe() throws -> (read: OwnedFD, write: OwnedFD) {
        var fds: [Int32] = [-1, -1]
        if airlock_pipe_cloexec(&fds) != 0 { throw OSError("pipe2", "pipe") }
        return (OwnedFD(fds[0]), OwnedFD(fds[1]))
    }

    /// A close-on-exec memfd holding `bytes`, positioned at 0.
    public static func memfd(_ name: String, contents bytes: [UInt8]) throws -> OwnedFD {
        let fd = airlock_memfd(name)
        if fd < 0 { throw OSError("memfd_create", name) }
        let owned = OwnedFD(fd)
        try owned.writeAll(bytes)
        _ = lseek(fd, 0, SEEK_SET)
        return owned
    }

    /// Open a path (close-on-exec).
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> OwnedFD {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        if fd < 0 { throw OSError("open", path) }
        return OwnedFD(fd)
    }

    /// Write every byte, retrying on EINTR and short writes.
    public func writeAll(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { buf in
                retryingEINTR { Glibc.write(raw, buf.baseAddress! + off, bytes.count - off) }
            }
            if n < 0 { throw OSError("write", "fd \(raw)") }
            off += n
        }
    }

    /// Read up to `max` bytes; an empty array means EOF.
    public func read(max: Int = 65536) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: max)
        let n = buf.withUnsafeMutableBytes { b in retryingEINTR { Glibc.read(raw, b.baseAddress!, max) } }
        if n < 0 { throw OSError("read", "fd \(raw)") }
        buf.removeSubrange(n...)
        return buf
    }

    /// Read until EOF.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let chunk = try read()
            if chunk.isEmpty { return out }
            out += chunk
        }
    }
}

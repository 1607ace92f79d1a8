import CAirlockShims
import Glibc

/// Tiny synchronous file helpers for kernel interfaces (/proc, /sys/fs/cgroup).
public enum FileIO {
    /// Read a whole (small) file as UTF-8.
    public static func read(_ path: String) throws -> String {
        let fd = try OwnedFD.open(path, O_RDONLY)
        return String(decoding: try fd.readAll(), as: UTF8.self)
    }

    /// Write `text` to an existing file (no create, no truncate: kernel interface files).
    public static func write(_ path: String, _ text: String) throws {
        let fd = try OwnedFD.open(path, O_WRONLY)
        do { try fd.writeAll(Array(text.utf8)) } catch let e as OSError {
            throw OSError("write", path, errno: e.errno, hint: e.hint)
        }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isWritable(_ path: String) -> Bool { access(path, W_OK) == 0 }

    /// mkdir that tolerates an existing directory.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws {
        if mkdir(path, mode) != 0 && airlock_errno() != EEXIST { throw OSError("mkdir", path) }
    }

    /// The filesystem magic number of `path` (statfs f_type), or nil.
    public static func filesystemType(_ path: String) -> Int? {
        let t = airlock_fs_type(path)
        return t < 0 ? nil : Int(t)
    }
}

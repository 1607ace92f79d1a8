import CAirlockShims
import Glibc

/// Mounts the runner makes on the host (not inside a sandbox): the size-limited file system
/// of a job's workspace.
public enum HostMount {
    /// Mount a `tmpfs` of `size` bytes at `path` (nosuid, nodev), its root owned by `uid:gid`
    /// with `mode`. Its pages are charged to the memory cgroup of whoever writes them: the job.
    public static func tmpfs(at path: String, size: UInt64, mode: mode_t, uid: uid_t, gid: gid_t) throws {
        let options = "size=\(size),mode=\(String(mode, radix: 8)),uid=\(uid),gid=\(gid)"
        let flags = UInt(MS_NOSUID) | UInt(MS_NODEV)
        if mount("airlock-workspace", path, "tmpfs", flags, options) != 0 {
            throw OSError("mount", path, hint: "the workspace file system needs root (CAP_SYS_ADMIN)")
        }
    }

    /// Whether `path` is the root of a mount (its device differs from its parent's).
    public static func isMountPoint(_ path: String) -> Bool {
        var a = stat()
        var b = stat()
        guard lstat(path, &a) == 0, lstat(path + "/..", &b) == 0 else { return false }
        return a.st_dev != b.st_dev
    }

    /// Detach the mount at `path` (lazily: still-open files keep it alive, nothing else sees it).
    public static func detach(_ path: String) throws {
        if umount2(path, Int32(MNT_DETACH) | Int32(UMOUNT_NOFOLLOW)) != 0 { throw OSError("umount2", path) }
    }
}

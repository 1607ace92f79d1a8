import CAirlockShims
import Glibc

/// The setup stages of `airlock-helper`, mirrored from `enum airlock_stage` in
/// `airlock_helper_protocol.h`, with the fix to suggest when a stage fails.
public enum HelperStage: Int32, Sendable, CaseIterable {
    case config = 1, clone, setgroups, uidMap, gidMap, cgroup, sync, setID, cgroupNamespace,
        mountPrivate, rootTmpfs, pivotRoot, bind, tmpfs, proc, dev, file, symlink, hostname,
        loopback, detachOldRoot, remountRoot, fork, rlimit, chdir, caps, fds, seccomp, exec

    /// A short human name ("bind mount", "exec").
    public var name: String {
        switch self {
        case .config: return "reading the launch config"
        case .clone: return "creating namespaces"
        case .setgroups: return "dropping supplementary groups"
        case .uidMap: return "writing the uid map"
        case .gidMap: return "writing the gid map"
        case .cgroup: return "joining the job cgroup"
        case .sync: return "synchronising with the sandbox"
        case .setID: return "switching to the sandbox ids"
        case .cgroupNamespace: return "creating the cgroup namespace"
        case .mountPrivate: return "making mounts private"
        case .rootTmpfs: return "mounting the root tmpfs"
        case .pivotRoot: return "pivot_root"
        case .bind: return "bind mount"
        case .tmpfs: return "mounting a tmpfs"
        case .proc: return "mounting /proc"
        case .dev: return "building /dev"
        case .file: return "creating a file"
        case .symlink: return "creating a symlink"
        case .hostname: return "setting the hostname"
        case .loopback: return "bringing up loopback"
        case .detachOldRoot: return "detaching the host root"
        case .remountRoot: return "remounting / read-only"
        case .fork: return "starting the job"
        case .rlimit: return "setting resource limits"
        case .chdir: return "changing directory"
        case .caps: return "dropping capabilities"
        case .fds: return "closing inherited descriptors"
        case .seccomp: return "installing the seccomp filter"
        case .exec: return "exec"
        }
    }

    /// The fix to suggest for this stage failing with `errno`, when one is known.
    public func hint(errno: Int32, detail: String) -> String? {
        switch (self, errno) {
        case (.config, EPROTO):
            return "the helper '\(detail)' reads another launch config version than this agent writes"
                + " (\(HelperConfig.configVersion)): they come from different builds. Rebuild the helper"
                + " from the agent's checkout (`make helper`) or reinstall both together, or point"
                + " AIRLOCK_HELPER at the helper built with this agent"
        case (.clone, 1), (.clone, 28), (.clone, 22):
            return "user namespaces look disabled: check `sysctl user.max_user_namespaces` (must be > 0)"
                + ", `kernel.unprivileged_userns_clone` (Debian: 1) and"
                + " `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu: 0)"
        case (.uidMap, _), (.gidMap, _):
            return "as an ordinary user only your own uid/gid can be mapped; as root check that the"
                + " uid range is free (`/etc/subuid` is not used)"
        case (.cgroup, 13), (.cgroup, 1):
            return "the job cgroup is not writable by this user: delegate it (see `airlock exec --help`)"
        case (.bind, 2):
            return "the bind source '\(detail)' does not exist on this host; remove it from the profile"
                + " or mark it `optional: true`"
        case (.exec, 2):
            return "'\(detail)' was not found inside the sandbox: only the profile's binds are visible"
                + " (check `PATH` and the profile's `filesystem.binds`)"
        case (.exec, 13):
            return "'\(detail)' is not executable inside the sandbox (mounted noexec, or no x bit)"
        case (.seccomp, 22):
            return "the kernel rejected the compiled seccomp program"
        default:
            return nil
        }
    }
}

/// A record from the helper's report pipe.
public struct HelperReport: Hashable, Sendable {
    public enum Kind: Int32, Sendable { case error = 1, started = 2, exited = 3 }
    public var kind: Kind
    public var stage: HelperStage?
    public var errno: Int32
    public var value: Int64
    public var detail: String

    /// Decode one `struct airlock_report` (512 bytes); nil when it is not a valid record.
    public init?(bytes: ArraySlice<UInt8>) {
        guard bytes.count == Int(airlock_report_size()) else { return nil }
        func i32(_ off: Int) -> Int32 {
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[bytes.startIndex + off + i]) << (8 * UInt32(i)) }
            return Int32(bitPattern: v)
        }
        func i64(_ off: Int) -> Int64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[bytes.startIndex + off + i]) << (8 * UInt64(i)) }
            return Int64(bitPattern: v)
        }
        guard UInt32(bitPattern: i32(0)) == AIRLOCK_REPORT_MAGIC, let kind = Kind(rawValue: i32(4))
        else { return nil }
        self.kind = kind
        self.stage = HelperStage(rawValue: i32(8))
        self.errno = i32(12)
        self.value = i64(16)
        let d = bytes[(bytes.startIndex + 24)...].prefix { $0 != 0 }
        self.detail = String(decoding: d, as: UTF8.self)
    }

    /// The helper refused the launch config's version. A current helper says so with EPROTO; a
    /// helper from before the config was versioned (version 1) reads the version token as an op
    /// name and reports it as an unknown op (EINVAL, the token as detail).
    public var isConfigVersionMismatch: Bool {
        guard kind == .error, stage == .config else { return false }
        return errno == EPROTO || (errno == EINVAL && detail == String(HelperConfig.configVersion))
    }

    /// A version refusal restated for the agent's message: the object is the helper binary at
    /// `helperPath`, `value` the version it reads (1 for an unversioned helper).
    func versionMismatch(helperPath: String) -> HelperReport {
        var r = self
        if r.errno != EPROTO { r.value = 1 }
        r.errno = EPROTO
        r.detail = helperPath
        return r
    }
}

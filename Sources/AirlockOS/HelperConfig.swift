import Glibc

/// The launch config the helper reads from fd 3: NUL-terminated tokens, each record an op name
/// followed by that op's arguments (see `airlock_helper_protocol.h` and `helper.c`).
///
/// The order of `mounts` is the order the helper performs them in.
public struct HelperConfig: Hashable, Sendable {
    public enum MountOp: Hashable, Sendable {
        case roBind(source: String, destination: String)
        /// Read-write, always `nosuid,nodev`.
        case rwBind(source: String, destination: String)
        case tmpfs(path: String, size: UInt64, mode: UInt32, uid: UInt32, gid: UInt32)
        case directory(path: String, mode: UInt32, uid: UInt32, gid: UInt32)
        case file(path: String, mode: UInt32, contents: String)
        /// A file handed to the given ids (e.g. a secret: mode 0400, the job's uid).
        case ownedFile(path: String, mode: UInt32, uid: UInt32, gid: UInt32, contents: String)
        case symlink(target: String, path: String)
        /// A fresh `/proc` for the sandbox's pid namespace.
        case proc
        /// A minimal `/dev` with a `/dev/shm` of `shmSize` bytes.
        case dev(shmSize: UInt64)
    }

    /// Contents written to `/proc/PID/uid_map` (e.g. `"0 300000 65536\n"`).
    public var uidMap: String
    public var gidMap: String
    /// Ids (inside the sandbox) used while setting up mounts.
    public var setupUID: UInt32
    public var setupGID: UInt32
    /// Ids (inside the sandbox) the job runs as.
    public var jobUID: UInt32
    public var jobGID: UInt32
    /// Keep the host network namespace (profile `network: host`).
    public var shareNetwork: Bool
    public var rootSize: UInt64
    public var hostname: String
    public var mounts: [MountOp]
    public var readOnlyRoot: Bool
    /// `cgroup.procs` files the helper writes the sandbox's init to before it starts (v2).
    public var cgroupProcs: [String]
    /// `tasks` files the sandbox's init writes itself into before setup (v1; see helper.c).
    public var cgroupSelf: [String] = []
    /// (resource, soft, hard) triples for setrlimit.
    public var rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)]
    public var workingDirectory: String
    public var umask: UInt32
    public var arguments: [String]
    public var environment: [String]
    /// Record every call the job makes (`airlock profile record`); nil for a normal launch.
    public var recording: HelperRecording?

    public init(
        uidMap: String, gidMap: String, setupUID: UInt32, setupGID: UInt32, jobUID: UInt32,
        jobGID: UInt32, shareNetwork: Bool = false, rootSize: UInt64 = 16 << 20,
        hostname: String = "airlock", mounts: [MountOp] = [], readOnlyRoot: Bool = true,
        cgroupProcs: [String] = [], rlimits: [(resource: Int32, soft: UInt64, hard: UInt64)] = [],
        workingDirectory: String = "/", umask: UInt32 = 0o022, arguments: [String],
        environment: [String]
    ) {
        self.uidMap = uidMap
        self.gidMap = gidMap
        self.setupUID = setupUID
        self.setupGID = setupGID
        self.jobUID = jobUID
        self.jobGID = jobGID
        self.shareNetwork = shareNetwork
        self.rootSize = rootSize
        self.hostname = hostname
        self.mounts = mounts
        self.readOnlyRoot = readOnlyRoot
        self.cgroupProcs = cgroupProcs
        self.rlimits = rlimits
        self.workingDirectory = workingDirectory
        self.umask = umask
        self.arguments = arguments
        self.environment = environment
    }

    public static func == (a: HelperConfig, b: HelperConfig) -> Bool { a.encoded() == b.encoded() }
    public func hash(into h: inout Hasher) { h.combine(encoded()) }

    /// The wire form. Tokens may not contain NUL; `encode` rejects them.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        func put(_ tokens: String...) {
            for t in tokens {
                out.append(contentsOf: t.utf8)
                out.append(0)
            }
        }
        put("uid_map", uidMap)
        put("gid_map", gidMap)
        put("setup_ids", String(setupUID), String(setupGID))
        put("job_ids", String(jobUID), String(jobGID))
        if shareNetwork { put("share_net") }
        put("root_size", String(rootSize))
        put("hostname", hostname)
        for m in mounts {
            switch m {
            case let .roBind(s, d): put("ro_bind", s, d)
            case let .rwBind(s, d): put("rw_bind", s, d)
            case let .tmpfs(p, size, mode, uid, gid):
                put("tmpfs", p, String(size), String(mode), String(uid), String(gid))
            case let .directory(p, mode, uid, gid):
                put("dir", p, String(mode), String(uid), String(gid))
            case let .file(p, mode, contents): put("file", p, String(mode), contents)
            case let .ownedFile(p, mode, uid, gid, contents):
                put("owned_file", p, String(mode), String(uid), String(gid), contents)
            case let .symlink(t, p): put("symlink", t, p)
            case .proc: put("proc")
            case let .dev(shm): put("dev", String(shm))
            }
        }
        if readOnlyRoot { put("readonly_root") }
        for c in cgroupProcs { put("cgroup", c) }
        for c in cgroupSelf { put("cgroup_self", c) }
        for r in rlimits { put("rlimit", String(r.resource), String(r.soft), String(r.hard)) }
        put("cwd", workingDirectory)
        put("umask", String(umask))
        for e in environment { put("env", e) }
        for a in arguments { put("arg", a) }
        if let r = recording {
            put("record", r.outputPath)
            for a in r.argumentCalls { put("record_args", String(a.number), String(a.mask)) }
        }
        return out
    }

    /// The helper's limits per kind of record (see `MAX_ITEMS` in helper.c).
    public static let maxItems = 256
    public static let maxCgroups = 16
    public static let maxRlimits = 16

    /// Checks the config can be encoded: no NUL bytes in any token (a NUL would shift every later
    /// token into a different record), counts within the helper's limits, a command present.
    public func validate() throws {
        var all = [uidMap, gidMap, hostname, workingDirectory] + arguments + environment + cgroupProcs + cgroupSelf
        for m in mounts {
            switch m {
            case let .roBind(s, d), let .rwBind(s, d): all += [s, d]
            case let .tmpfs(p, _, _, _, _), let .directory(p, _, _, _): all.append(p)
            case let .file(p, _, c), let .ownedFile(p, _, _, _, c): all += [p, c]
            case let .symlink(t, p): all += [t, p]
            case .proc, .dev: break
            }
        }
        for (count, limit, what) in [
            (arguments.count, Self.maxItems, "arguments"), (environment.count, Self.maxItems, "environment variables"),
            (mounts.count, Self.maxItems, "mounts"), (cgroupProcs.count, Self.maxCgroups, "cgroups"),
            (cgroupSelf.count, Self.maxCgroups, "cgroups"), (rlimits.count, Self.maxRlimits, "rlimits"),
        ]
        where count > limit {
            throw OSError("encode", "launch config", errno: E2BIG, hint: "too many \(what): \(count), at most \(limit)")
        }
        if let bad = all.first(where: { $0.utf8.contains(0) }) {
            throw OSError(
                "encode", "launch config token \(bad.debugDescription)", errno: 22,
                hint: "arguments and environment values cannot contain NUL bytes")
        }
        if arguments.isEmpty { throw OSError("encode", "launch config", errno: 22, hint: "no command given") }
    }
}

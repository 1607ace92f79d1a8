import CAirlockShims
import Glibc

/// The launch config the helper reads from fd 3: NUL-terminated tokens, the config version first,
/// then records of an op code (`enum airlock_op`) and that op's arguments. The codes, their
/// argument counts and the version come from `airlock_helper_protocol.h`, which the helper's
/// parser (`Sources/airlock-helper/config.c`) reads too.
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
    /// `tasks` files the sandbox's init writes itself into before setup (v1; see contain.c).
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

    /// The launch config version this agent writes (`AIRLOCK_HELPER_CONFIG_VERSION`).
    public static let configVersion = Int(AIRLOCK_HELPER_CONFIG_VERSION)

    /// The number of arguments that follow `op` on the wire: the low bits of its code.
    public static func argumentCount(_ op: airlock_op) -> Int {
        Int(op.rawValue & UInt32(AIRLOCK_OP_ARGC_MASK))
    }

    /// The wire form. Tokens may not contain NUL; `validate` rejects them.
    public func encoded() -> [UInt8] { encoded(version: Self.configVersion) }

    /// The wire form with another version first (tests: a config the helper must refuse).
    func encoded(version: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2048)
        func token(_ t: String) {
            out.append(contentsOf: t.utf8)
            out.append(0)
        }
        func put(_ op: airlock_op, _ arguments: String...) {
            assert(arguments.count == Self.argumentCount(op), "op \(op.rawValue): wrong argument count")
            token(String(op.rawValue))
            for a in arguments { token(a) }
        }
        token(String(version))
        put(AIRLOCK_OP_UID_MAP, uidMap)
        put(AIRLOCK_OP_GID_MAP, gidMap)
        put(AIRLOCK_OP_SETUP_IDS, String(setupUID), String(setupGID))
        put(AIRLOCK_OP_JOB_IDS, String(jobUID), String(jobGID))
        if shareNetwork { put(AIRLOCK_OP_SHARE_NET) }
        put(AIRLOCK_OP_ROOT_SIZE, String(rootSize))
        put(AIRLOCK_OP_HOSTNAME, hostname)
        for m in mounts {
            switch m {
            case let .roBind(s, d): put(AIRLOCK_OP_RO_BIND, s, d)
            case let .rwBind(s, d): put(AIRLOCK_OP_RW_BIND, s, d)
            case let .tmpfs(p, size, mode, uid, gid):
                put(AIRLOCK_OP_TMPFS, p, String(size), String(mode), String(uid), String(gid))
            case let .directory(p, mode, uid, gid):
                put(AIRLOCK_OP_DIR, p, String(mode), String(uid), String(gid))
            case let .file(p, mode, contents): put(AIRLOCK_OP_FILE, p, String(mode), contents)
            case let .ownedFile(p, mode, uid, gid, contents):
                put(AIRLOCK_OP_OWNED_FILE, p, String(mode), String(uid), String(gid), contents)
            case let .symlink(t, p): put(AIRLOCK_OP_SYMLINK, t, p)
            case .proc: put(AIRLOCK_OP_PROC)
            case let .dev(shm): put(AIRLOCK_OP_DEV, String(shm))
            }
        }
        if readOnlyRoot { put(AIRLOCK_OP_READONLY_ROOT) }
        for c in cgroupProcs { put(AIRLOCK_OP_CGROUP, c) }
        for c in cgroupSelf { put(AIRLOCK_OP_CGROUP_SELF, c) }
        for r in rlimits { put(AIRLOCK_OP_RLIMIT, String(r.resource), String(r.soft), String(r.hard)) }
        put(AIRLOCK_OP_CWD, workingDirectory)
        put(AIRLOCK_OP_UMASK, String(umask))
        for e in environment { put(AIRLOCK_OP_ENV, e) }
        for a in arguments { put(AIRLOCK_OP_ARG, a) }
        if let r = recording {
            put(AIRLOCK_OP_RECORD, r.outputPath)
            for a in r.argumentCalls { put(AIRLOCK_OP_RECORD_ARGS, String(a.number), String(a.mask)) }
        }
        return out
    }

    /// The helper's limits per kind of record (`AIRLOCK_HELPER_MAX_*` in the protocol header).
    public static let maxItems = Int(AIRLOCK_HELPER_MAX_ITEMS)
    public static let maxCgroups = Int(AIRLOCK_HELPER_MAX_CGROUPS)
    public static let maxRlimits = Int(AIRLOCK_HELPER_MAX_RLIMITS)

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

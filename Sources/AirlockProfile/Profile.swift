import AirlockCore

/// A sandbox profile after `extends` has been resolved and every field validated.
///
/// Profiles are written in YAML (or JSON) under `Profiles/`; Docker/OCI seccomp JSON imports into
/// the `seccomp` part. Nothing here touches the kernel: `AirlockSandbox` compiles `seccomp` with
/// libseccomp and hands the rest to the helper as a mount plan.
public struct Profile: Hashable, Sendable {
    public var name: String
    public var description: String
    /// The chain of profiles this one was built from, base first (for provenance and `explain`).
    public var lineage: [String]
    public var seccomp: SeccompSpec
    public var filesystem: FilesystemSpec
    public var network: NetworkMode
    public var limits: LimitsSpec
    /// Capabilities kept in the sandbox. Airlock only accepts an empty list today.
    public var capabilities: [String]
    /// Whether jobs may receive secrets as environment variables (`secrets.allowEnv`). Off by
    /// default: the environment leaks into child processes, core files and `/proc/*/environ`.
    public var allowSecretEnv: Bool

    public init(
        name: String, description: String = "", lineage: [String] = [], seccomp: SeccompSpec,
        filesystem: FilesystemSpec, network: NetworkMode = .none, limits: LimitsSpec = .init(),
        capabilities: [String] = [], allowSecretEnv: Bool = false
    ) {
        self.allowSecretEnv = allowSecretEnv
        self.name = name
        self.description = description
        self.lineage = lineage
        self.seccomp = seccomp
        self.filesystem = filesystem
        self.network = network
        self.limits = limits
        self.capabilities = capabilities
    }
}

/// What the filter does with a call.
public enum SeccompAction: Hashable, Sendable {
    case allow
    /// Fail the call with this errno (e.g. 1 = EPERM, 38 = ENOSYS).
    case errno(Int32)
    /// Kill the whole process.
    case killProcess
    /// Deliver SIGSYS.
    case trap
    /// Allow, but log through the audit subsystem.
    case log
}

/// One comparison on a syscall argument, as libseccomp expresses it.
public struct SeccompArg: Hashable, Sendable {
    public enum Op: String, Hashable, Sendable, CaseIterable {
        case eq, ne, lt, le, gt, ge
        /// `(arg & value) == valueTwo`
        case maskedEq = "masked_eq"
    }
    public var index: Int
    public var op: Op
    public var value: UInt64
    public var valueTwo: UInt64
    public init(index: Int, op: Op, value: UInt64, valueTwo: UInt64 = 0) {
        self.index = index
        self.op = op
        self.value = value
        self.valueTwo = valueTwo
    }
}

/// A rule: these syscalls, when all `args` match, get `action`.
public struct SeccompRule: Hashable, Sendable {
    public var names: [String]
    public var action: SeccompAction
    public var args: [SeccompArg]
    /// Why the rule exists (shown by `profile explain`, checked by `profile lint`).
    public var why: String?
    /// Where the rule was written, for messages.
    public var location: SourceLocation?
    public init(
        names: [String], action: SeccompAction, args: [SeccompArg] = [], why: String? = nil,
        location: SourceLocation? = nil
    ) {
        self.names = names
        self.action = action
        self.args = args
        self.why = why
        self.location = location
    }
}

/// The seccomp part of a profile.
public struct SeccompSpec: Hashable, Sendable {
    /// Action for calls no rule matches: `.allow` makes a deny-list, `.errno` an allow-list.
    public var defaultAction: SeccompAction
    /// Rules in order; later rules for the same call and arguments override earlier ones.
    public var rules: [SeccompRule]
    public init(defaultAction: SeccompAction, rules: [SeccompRule] = []) {
        self.defaultAction = defaultAction
        self.rules = rules
    }
}

/// A host path made visible inside the sandbox.
public struct BindMount: Hashable, Sendable {
    public var source: String
    public var destination: String
    public var readOnly: Bool
    /// Skip silently when the source does not exist on this host (e.g. `/lib64`).
    public var optional: Bool
    public init(source: String, destination: String, readOnly: Bool = true, optional: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
        self.optional = optional
    }
}

/// A symlink created in the sandbox's root (`/bin -> usr/bin` on merged-/usr systems).
public struct SymlinkSpec: Hashable, Sendable {
    public var target: String
    public var path: String
    public init(target: String, path: String) {
        self.target = target
        self.path = path
    }
}

/// The filesystem part of a profile.
public struct FilesystemSpec: Hashable, Sendable {
    public var binds: [BindMount]
    public var symlinks: [SymlinkSpec]
    /// Size of the sandbox's `/tmp` tmpfs, bytes.
    public var tmpSize: UInt64
    /// Size of the tmpfs that forms the sandbox's `/` (holds mount points, `/etc/passwd`, `HOME`).
    public var rootSize: UInt64
    public init(
        binds: [BindMount] = [], symlinks: [SymlinkSpec] = [], tmpSize: UInt64 = 256 << 20,
        rootSize: UInt64 = 64 << 20
    ) {
        self.binds = binds
        self.symlinks = symlinks
        self.tmpSize = tmpSize
        self.rootSize = rootSize
    }
}

/// Network access.
public enum NetworkMode: String, Hashable, Sendable {
    /// A fresh network namespace with only `lo` (the default).
    case none
    /// The host's network namespace (explicit opt-in, for fetch steps).
    case host
}

/// What to do when cgroups cannot be used (not delegated to this user).
public enum CgroupFallback: String, Hashable, Sendable {
    /// Refuse to run (the default: limits that cannot be enforced are not pretended).
    case refuse
    /// Run with rlimits only, and say so.
    case rlimits
}

/// Default limits; a job's `resources` and CLI flags override them.
public struct LimitsSpec: Hashable, Sendable {
    public var memory: UInt64?
    public var pids: Int?
    public var cpus: Double?
    /// Open files (RLIMIT_NOFILE).
    public var nofile: UInt64
    /// Wall-clock limit, seconds.
    public var timeout: Double?
    /// Cap on captured log bytes per job.
    public var logLimit: UInt64
    /// Size of the job's workspace file system (root mode: a size-limited tmpfs, whose pages
    /// count against `memory`); also the cap on all outputs' data.
    public var workspace: UInt64?
    public var cgroupFallback: CgroupFallback
    public init(
        memory: UInt64? = 2 << 30, pids: Int? = 1024, cpus: Double? = nil, nofile: UInt64 = 4096,
        timeout: Double? = 3600, logLimit: UInt64 = 16 << 20, workspace: UInt64? = 1 << 30,
        cgroupFallback: CgroupFallback = .refuse
    ) {
        self.workspace = workspace
        self.memory = memory
        self.pids = pids
        self.cpus = cpus
        self.nofile = nofile
        self.timeout = timeout
        self.logLimit = logLimit
        self.cgroupFallback = cgroupFallback
    }
}

/// Resolves syscall names for validation; implemented over libseccomp by `AirlockOS`
/// (`LibseccompSyscallTable`), and by a fixed table in tests.
public protocol SyscallTable: Sendable {
    /// The native syscall number for `name`, or `nil` when this host's libseccomp does not know it.
    func number(of name: String) -> Int32?
    /// All names this table knows (for "did you mean" suggestions).
    var allNames: [String] { get }
}

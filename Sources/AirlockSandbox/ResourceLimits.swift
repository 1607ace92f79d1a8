import AirlockCore
import AirlockProfile

/// The limits one job or launch runs with: the single resolved model. Profiles state defaults
/// (`LimitsSpec`), jobs request changes (`Job.Resources`, `timeout`), the command line overrides
/// both (`Overrides`); `resolve` is the one place they are merged. The OS layer's `CgroupLimits`
/// is only the kernel-facing projection of the memory, pids and cpu fields.
public struct ResourceLimits: Hashable, Sendable {
    public var memory: UInt64?
    public var pids: Int?
    public var cpus: Double?
    /// Open files (RLIMIT_NOFILE).
    public var nofile: UInt64
    /// Wall-clock limit in seconds (the job's, or one launch's).
    public var timeout: Double?
    /// The workspace file system's size (root mode), also the cap on the outputs' data.
    public var workspace: UInt64?

    public init(
        memory: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil, nofile: UInt64 = 4096, timeout: Double? = nil,
        workspace: UInt64? = nil
    ) {
        self.memory = memory
        self.pids = pids
        self.cpus = cpus
        self.nofile = nofile
        self.timeout = timeout
        self.workspace = workspace
    }

    /// The profile's defaults.
    public init(profile p: LimitsSpec) {
        self.init(
            memory: p.memory, pids: p.pids, cpus: p.cpus, nofile: p.nofile, timeout: p.timeout, workspace: p.workspace)
    }

    /// Command-line overrides (`--memory`, `--pids`, `--cpus`, `--timeout`): they win over the
    /// job and the profile.
    public struct Overrides: Sendable {
        public var memory: UInt64?
        public var pids: Int?
        public var cpus: Double?
        public var timeout: Double?
        public init(memory: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil, timeout: Double? = nil) {
            self.memory = memory
            self.pids = pids
            self.cpus = cpus
            self.timeout = timeout
        }
    }

    /// Profile defaults, then the job's `resources:` and `timeout:`, then the flags.
    public static func resolve(profile: LimitsSpec, job: Job? = nil, flags: Overrides = .init()) -> ResourceLimits {
        var l = ResourceLimits(profile: profile)
        if let job {
            if let m = job.resources.memory { l.memory = m }
            if let p = job.resources.pids { l.pids = p }
            if let c = job.resources.cpus { l.cpus = c }
            if let w = job.resources.workspace { l.workspace = w }
            if let t = job.timeout { l.timeout = t }
        }
        if let m = flags.memory { l.memory = m }
        if let p = flags.pids { l.pids = p }
        if let c = flags.cpus { l.cpus = c }
        if let t = flags.timeout { l.timeout = t }
        return l
    }
}

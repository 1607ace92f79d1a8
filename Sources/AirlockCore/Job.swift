/// A build job as written in a job file (`Examples/*/job.yaml`).
///
/// The job is plain data: `JobLoader` parses and validates it, and the sandbox runtime turns it
/// into launches. Paths in `inputs` are relative to the job file's directory unless absolute.
public struct Job: Hashable, Sendable {
    /// One step: a named `/bin/sh -e` script run in `/workspace`.
    public struct Step: Hashable, Sendable {
        public var name: String
        public var run: String
        public init(name: String, run: String) {
            self.name = name
            self.run = run
        }
    }

    /// Resource limits requested by the job; `nil` means "the profile's default".
    public struct Resources: Hashable, Sendable {
        /// Memory limit in bytes.
        public var memory: UInt64?
        /// Maximum number of processes/threads.
        public var pids: Int?
        /// CPU limit in cores (e.g. 1.5).
        public var cpus: Double?
        public init(memory: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil) {
            self.memory = memory
            self.pids = pids
            self.cpus = cpus
        }
    }

    public var name: String
    /// Profile name (`default`, `strict`, …) or a path to a profile file.
    public var profile: String
    /// Files or directories copied into `/workspace` before the first step.
    public var inputs: [String]
    public var steps: [Step]
    /// Extra environment variables, in file order.
    public var env: [(key: String, value: String)]
    /// Paths or globs (relative to `/workspace`) collected after success.
    public var outputs: [String]
    /// Wall-clock limit for the whole job, in seconds.
    public var timeout: Double?
    public var resources: Resources
    /// Fixed `SOURCE_DATE_EPOCH`; when `nil` the newest input mtime is used.
    public var sourceDateEpoch: Int64?
    /// The file the job came from (for messages and relative paths).
    public var sourceFile: String?

    public init(
        name: String, profile: String = "default", inputs: [String] = [], steps: [Step],
        env: [(key: String, value: String)] = [], outputs: [String] = [], timeout: Double? = nil,
        resources: Resources = .init(), sourceDateEpoch: Int64? = nil, sourceFile: String? = nil
    ) {
        self.name = name
        self.profile = profile
        self.inputs = inputs
        self.steps = steps
        self.env = env
        self.outputs = outputs
        self.timeout = timeout
        self.resources = resources
        self.sourceDateEpoch = sourceDateEpoch
        self.sourceFile = sourceFile
    }

    public static func == (a: Job, b: Job) -> Bool {
        a.name == b.name && a.profile == b.profile && a.inputs == b.inputs && a.steps == b.steps
            && a.env.map { "\($0.key)=\($0.value)" } == b.env.map { "\($0.key)=\($0.value)" }
            && a.outputs == b.outputs && a.timeout == b.timeout && a.resources == b.resources
            && a.sourceDateEpoch == b.sourceDateEpoch
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(steps)
    }
}

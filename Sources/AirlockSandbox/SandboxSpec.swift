import AirlockCore
import AirlockOS
import AirlockProfile

/// Everything needed to start one sandbox: the resolved profile plus this launch's specifics.
public struct SandboxSpec: Sendable {
    /// The resolved limits of one launch (`ResourceLimits.resolve`).
    public typealias Limits = ResourceLimits

    public var profile: Profile
    public var command: [String]
    /// Variables added to (or replacing) the deterministic base environment.
    public var environment: [(key: String, value: String)]
    /// Host directory bound read-write at `/workspace`; nil for none.
    public var workspace: String?
    /// Extra binds (e.g. `--bind`), after the profile's.
    public var extraBinds: [BindMount]
    public var limits: Limits
    public var workingDirectory: String
    /// Descriptors that become the job's stdin, stdout and stderr.
    public var stdio: (Int32, Int32, Int32)
    public var hostname: String
    /// `SOURCE_DATE_EPOCH` for the job; nil leaves it unset.
    public var sourceDateEpoch: Int64?
    /// Files placed at `/run/secrets/<name>` (mode 0400, the job's uid) on a tmpfs that exists
    /// only inside the sandbox. The bytes travel to the helper in a memfd, never via the disk.
    public var secretFiles: [(name: String, contents: String)] = []
    /// Record every call the job makes (`airlock profile record`); the profile's filter stays.
    public var recording: HelperRecording?

    public init(
        profile: Profile, command: [String], environment: [(key: String, value: String)] = [],
        workspace: String? = nil, extraBinds: [BindMount] = [], limits: Limits? = nil,
        workingDirectory: String? = nil, stdio: (Int32, Int32, Int32) = (0, 1, 2),
        hostname: String = "airlock", sourceDateEpoch: Int64? = nil
    ) {
        self.profile = profile
        self.command = command
        self.environment = environment
        self.workspace = workspace
        self.extraBinds = extraBinds
        self.limits = limits ?? Limits(profile: profile.limits)
        self.workingDirectory = workingDirectory ?? (workspace == nil ? "/home/build" : "/workspace")
        self.stdio = stdio
        self.hostname = hostname
        self.sourceDateEpoch = sourceDateEpoch
    }

    /// The environment the job sees: a fixed, minimal base plus `environment`. Nothing is
    /// inherited from the caller.
    public var fullEnvironment: [String] {
        var env: [(String, String)] = [
            ("PATH", "/usr/local/bin:/usr/bin:/bin"), ("HOME", "/home/build"), ("USER", "build"),
            ("LOGNAME", "build"), ("SHELL", "/bin/sh"), ("TZ", "UTC"), ("LANG", "C.UTF-8"),
            ("LC_ALL", "C.UTF-8"), ("TMPDIR", "/tmp"),
        ]
        if let s = sourceDateEpoch { env.append(("SOURCE_DATE_EPOCH", String(s))) }
        for (k, v) in environment {
            if let i = env.firstIndex(where: { $0.0 == k }) { env[i].1 = v } else { env.append((k, v)) }
        }
        return env.map { "\($0.0)=\($0.1)" }
    }
}

/// How one sandbox ended.
public struct SandboxResult: Sendable {
    /// The command's exit status (128+N for signal N; 124 after a timeout).
    public var exitCode: Int32
    public var timedOut: Bool
    /// The kernel OOM-killed something in the job's cgroup.
    public var oomKilled: Bool
    /// A fork failed at the pids limit.
    public var pidsLimitHit: Bool
    /// Wall time from spawn to teardown, seconds.
    public var duration: Double
    public var memoryPeak: UInt64?
    /// Processes still alive at teardown that had to be killed.
    public var leftoverProcesses: Int
    /// Set when limits were enforced with rlimits only (no cgroup).
    public var rlimitsOnly: Bool

    public init(
        exitCode: Int32, timedOut: Bool = false, oomKilled: Bool = false, pidsLimitHit: Bool = false,
        duration: Double = 0, memoryPeak: UInt64? = nil, leftoverProcesses: Int = 0, rlimitsOnly: Bool = false
    ) {
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.oomKilled = oomKilled
        self.pidsLimitHit = pidsLimitHit
        self.duration = duration
        self.memoryPeak = memoryPeak
        self.leftoverProcesses = leftoverProcesses
        self.rlimitsOnly = rlimitsOnly
    }
}

import AirlockCore
import AirlockJob
import AirlockSandbox
import Foundation

/// Where an agent's jobs come from: a coordinator (GitLab) or a spool directory.
public protocol JobSource: Sendable {
    /// `gitlab` or `spool`; also the `source` of in-flight records.
    var kind: String { get }
    /// Wait for the next job. Returns nil when none arrived within one poll (the agent asks again).
    /// Throws when the source cannot be reached; the agent backs off and retries.
    func next() async throws -> (any AgentJob)?
    /// Report, as failed, a job that an earlier agent process left running when it died.
    func recover(_ record: InFlightRecord) async
}

/// One claimed job. The agent records it in the journal, runs it, then forgets it.
public protocol AgentJob: Sendable {
    /// Unique within the source.
    var id: String { get }
    /// When the job was claimed (the start of the agent's overhead).
    var claimedAt: Date { get }
    /// What a restarted agent needs to report this job failed.
    var record: InFlightRecord { get }
    /// Prepare, execute (through `executor`) and report the job. Never throws: every failure is
    /// reported to the source. `control` cancels it (shutdown, or the source asked).
    func run(executor: JobExecutor, control: JobControl) async -> JobOutcome
}

/// How a job ended, for the agent's metrics and log.
public struct JobOutcome: Sendable, Equatable {
    public enum State: String, Sendable {
        case success, failed, canceled
        /// The agent (not the job) failed: bad payload, setup failure, unreachable source.
        case systemFailure = "system_failure"
    }

    public var state: State
    public var exitCode: Int32?
    public var message: String?
    /// Seconds from claim to the first sandbox running, if one ran.
    public var setupSeconds: Double?
    /// Seconds from the last sandbox exit to the result reported, if one ran.
    public var reportSeconds: Double?

    public init(
        state: State, exitCode: Int32? = nil, message: String? = nil, setupSeconds: Double? = nil,
        reportSeconds: Double? = nil
    ) {
        self.state = state
        self.exitCode = exitCode
        self.message = message
        self.setupSeconds = setupSeconds
        self.reportSeconds = reportSeconds
    }
}

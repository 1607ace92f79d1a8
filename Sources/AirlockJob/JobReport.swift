import AirlockCore
import AirlockSandbox
import Foundation

/// What happened to one step.
public struct StepReport: Sendable {
    public var name: String
    public var exitCode: Int32
    public var duration: Double
    public var result: SandboxResult
}

/// What happened to a job run by the `JobPipeline`.
public struct JobReport: Sendable {
    /// The job's exit status: the failing step's, 124 on timeout, 0 on success.
    public var exitCode: Int32
    public var steps: [StepReport]
    /// The step that failed, if any.
    public var failedStep: String?
    public var timedOut: Bool
    /// Output paths copied to the out dir (relative to it).
    public var outputs: [String]
    public var logPath: String
    public var startedOn: Date
    public var finishedOn: Date
    public var sourceDateEpoch: Int64
    /// A message for the person at the keyboard when the job failed.
    public var failureMessage: String?
    /// Digests of the inputs as the job saw them in its workspace (paths relative to it).
    public var inputDigests: [FileHasher.Entry] = []
    /// Digests of the collected outputs (paths relative to the out dir; SHA-1 too, for SPDX).
    public var outputDigests: [FileHasher.Entry] = []
    /// The limits the steps ran with.
    public var limits: ResourceLimits
    /// Whether the job was stopped through its `JobControl`.
    public var canceled = false
}

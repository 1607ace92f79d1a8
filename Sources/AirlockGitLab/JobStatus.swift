/// The state a runner reports for a job in `PUT /api/v4/jobs/:id`.
public enum JobState: String, Sendable {
    case pending
    case running
    case success
    case failed
}

/// Why a job failed, by the names GitLab's `failure_reason` accepts.
///
/// A finished job's `features.failure_reasons` lists what that GitLab supports; a reason not in
/// that list is sent as `unknown_failure`, as GitLab Runner does.
public enum FailureReason: String, Sendable, CaseIterable {
    case scriptFailure = "script_failure"
    case runnerSystemFailure = "runner_system_failure"
    case jobExecutionTimeout = "job_execution_timeout"
    case unknownFailure = "unknown_failure"
    case stuckOrTimeoutFailure = "stuck_or_timeout_failure"
    case runnerUnsupported = "runner_unsupported"
    case archivedFailure = "archived_failure"
    case unmetPrerequisites = "unmet_prerequisites"
    case scheduledJobFailure = "scheduler_failure"
    case dataIntegrityFailure = "data_integrity_failure"
    case imagePullFailure = "image_pull_failure"
    /// Used by GitLab Runner internally for a job canceled while running; GitLab may not list it
    /// in `failure_reasons`, in which case `unknown_failure` is sent.
    case jobCanceled = "job_canceled"
}

/// The job's state on the GitLab side, from the `Job-Status` header of trace and update
/// responses.
public enum RemoteJobStatus: Sendable, Equatable, CustomStringConvertible {
    case running
    /// Cancel requested: stop gracefully (the `after_script` may still run).
    case canceling
    case canceled
    case failed
    case other(String)

    /// Parses a `Job-Status` header value.
    public init(header: String) {
        switch header.lowercased() {
        case "running": self = .running
        case "canceling": self = .canceling
        case "canceled", "cancelled": self = .canceled
        case "failed": self = .failed
        default: self = .other(header)
        }
    }

    /// True when the agent must stop the job: canceling, canceled or failed.
    public var requiresStop: Bool {
        switch self {
        case .canceling, .canceled, .failed: return true
        case .running, .other: return false
        }
    }

    public var description: String {
        switch self {
        case .running: return "running"
        case .canceling: return "canceling"
        case .canceled: return "canceled"
        case .failed: return "failed"
        case .other(let value): return value
        }
    }
}

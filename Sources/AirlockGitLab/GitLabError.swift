import AirlockCore

/// What can go wrong talking to a GitLab coordinator.
///
/// Each message names the host (or the field) and says what to do about it.
public enum GitLabError: Error, Sendable, CustomStringConvertible {
    /// The coordinator refused the token (HTTP 403): it is invalid, revoked, or the runner was
    /// deleted. The associated text names the host and which token.
    case forbidden(String)
    /// No usable answer after every retry: the connection failed or kept failing.
    case unreachable(host: String, underlying: String)
    /// The coordinator answered something this runner cannot understand (a job payload that
    /// does not decode, say). The agent fails such a job with `runner_system_failure`.
    case malformed(String)
    /// An HTTP status this call does not expect, with a short excerpt of the body.
    case http(status: Int, body: String)

    public var description: String {
        switch self {
        case .forbidden(let message):
            return message
        case .unreachable(let host, let underlying):
            return "GitLab at \(host) is unreachable (\(underlying))\n"
                + "  fix: check the URL, DNS and network path to \(host), and that GitLab is up"
        case .malformed(let message):
            return message
        case .http(let status, let body):
            let excerpt = body.isEmpty ? "" : ": \(body)"
            return "GitLab answered HTTP \(status)\(excerpt)"
        }
    }

    /// The same failure as an `AirlockError`, for the CLI's error reporting.
    public var airlockError: AirlockError {
        switch self {
        case .forbidden: return AirlockError("gitlab.forbidden", description)
        case .unreachable: return AirlockError("gitlab.unreachable", description)
        case .malformed: return AirlockError("gitlab.malformed", description)
        case .http: return AirlockError("gitlab.http", description)
        }
    }
}

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
    /// An HTTP status this call does not expect; `body` names the host and the endpoint
    /// (`POST /api/v4/jobs/:id`) and gives a short excerpt of the answer.
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
            // Some callers already give the fix (an oversized artifacts archive).
            let fix =
                body.contains("\n  fix: ")
                ? ""
                : "\n  fix: "
                    + (status >= 500
                        ? "GitLab failed the request; check its logs, and retry once it is healthy"
                        : "check that this runner and GitLab speak the same API version (see GitLab's logs for the request)")
            return "GitLab answered HTTP \(status)\(excerpt)\(fix)"
        }
    }

    /// The same failure as an `AirlockError`, for the CLI's error reporting.
    public var airlockError: AirlockError {
        switch self {
        case .forbidden: return AirlockError(.gitlabForbidden, description)
        case .unreachable: return AirlockError(.gitlabUnreachable, description)
        case .malformed: return AirlockError(.gitlabMalformed, description)
        case .http: return AirlockError(.gitlabHTTP, description)
        }
    }
}

import AirlockCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The result of `POST /api/v4/runners/verify`.
public struct RunnerVerification: Sendable, Equatable {
    /// The runner's id, when this GitLab reports it.
    public var id: Int?
    /// When the runner token expires (ISO 8601), when it does.
    public var tokenExpiresAt: String?
}

/// The answer to one job request.
public enum JobRequestResult: Sendable {
    /// A job to run; `raw` is the exact JSON GitLab sent (for the journal).
    case job(GitLabJobPayload, raw: [UInt8])
    /// No job this time. Send `lastUpdate` (the `X-GitLab-Last-Update` header) with the next
    /// request so GitLab can answer at once when nothing changed.
    case noJob(lastUpdate: String?)
}

/// Talks to one GitLab instance's runner API (`/api/v4`): registration, job requests, and — for
/// `GitLabJobSession` — trace, update and artifact calls. Retries per `RetryPolicy`.
public final class GitLabClient: Sendable {
    /// `https://gitlab.example.com`, without a trailing slash.
    public let baseURL: String
    /// `host[:port]` of `baseURL`, for messages.
    public let host: String
    let http: HTTPClient
    let retry: RetryPolicy
    let logger: Logger
    let requestTimeout: TimeAmount
    /// Told about every answer (endpoint path pattern, HTTP status; 0 when none came), for metrics.
    let observer: (@Sendable (_ endpoint: String, _ status: Int) -> Void)?
    /// What retry waits (back-off, `Retry-After`, a final update's 202) sleep on; tests pass a
    /// clock that records the waits and returns at once.
    let clock: any Clock<Duration>

    /// - Parameters:
    ///   - baseURL: the GitLab instance, e.g. `https://gitlab.example.com` (no `/api/v4`).
    ///   - http: a client the caller owns and shuts down.
    ///   - requestTimeout: the whole exchange; above GitLab's long-poll hold (~50 s).
    ///   - clock: what retry waits sleep on (`ContinuousClock` outside tests).
    public init(
        baseURL: String, http: HTTPClient, retry: RetryPolicy = .default, logger: Logger,
        requestTimeout: TimeAmount = .seconds(70),
        observer: (@Sendable (_ endpoint: String, _ status: Int) -> Void)? = nil,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.observer = observer
        self.clock = clock
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix("/api/v4") { trimmed.removeLast("/api/v4".count) }
        self.baseURL = trimmed
        let url = URL(string: trimmed)
        self.host = url.map { u in (u.host ?? trimmed) + (u.port.map { ":\($0)" } ?? "") } ?? trimmed
        self.http = http
        self.retry = retry
        self.logger = logger
        self.requestTimeout = requestTimeout
    }

    /// Checks a runner authentication token (`glrt-…`): `POST /api/v4/runners/verify`.
    public func verifyRunner(token: String, systemID: String) async throws -> RunnerVerification {
        let reply = try await send(
            .POST, "/api/v4/runners/verify", json: ["token": token, "system_id": systemID])
        switch reply.status {
        case 200, 201:
            let object = reply.jsonObject
            return RunnerVerification(
                id: object["id"] as? Int, tokenExpiresAt: object["token_expires_at"] as? String)
        case 403:
            throw GitLabError.forbidden(
                "GitLab at \(host) rejected the runner token (403): it is invalid, expired or the "
                    + "runner was deleted\n  fix: create a runner in GitLab and use its glrt- token")
        default:
            throw reply.unexpected
        }
    }

    /// Registers a runner with a (deprecated) registration token: legacy `POST /api/v4/runners`.
    public func registerRunner(
        registrationToken: String, description: String, tags: [String], runUntagged: Bool,
        info: GitLabRunnerInfo
    ) async throws -> (id: Int, token: String) {
        var body: [String: Any] = [
            "token": registrationToken, "description": description, "info": info.json,
            "run_untagged": runUntagged, "paused": false, "locked": true,
        ]
        if !tags.isEmpty { body["tag_list"] = tags.joined(separator: ",") }
        let reply = try await send(.POST, "/api/v4/runners", json: body)
        switch reply.status {
        case 200, 201:
            let object = reply.jsonObject
            guard let id = object["id"] as? Int, let token = object["token"] as? String else {
                throw GitLabError.malformed(
                    "GitLab at \(host) answered the registration without an id and token")
            }
            return (id, token)
        case 403:
            throw GitLabError.forbidden(
                "GitLab at \(host) rejected the registration token (403)\n"
                    + "  fix: copy a current registration token, or create the runner in GitLab's UI "
                    + "and use `airlock agent` with its glrt- token")
        default:
            throw reply.unexpected
        }
    }

    /// Asks for a job: `POST /api/v4/jobs/request`. GitLab may hold the request (long poll).
    ///
    /// 201 → `.job`; 204 → `.noJob` with `X-GitLab-Last-Update`; 409 (a conflict GitLab Runner
    /// also treats as "no job") → `.noJob(lastUpdate)` unchanged; 403 → `GitLabError.forbidden`.
    public func requestJob(
        token: String, systemID: String, info: GitLabRunnerInfo, lastUpdate: String?
    ) async throws -> JobRequestResult {
        var body: [String: Any] = ["token": token, "system_id": systemID, "info": info.json]
        if let lastUpdate { body["last_update"] = lastUpdate }
        let reply = try await send(.POST, "/api/v4/jobs/request", json: body)
        switch reply.status {
        case 201:
            do {
                // Depth, size and value count first: a decoder recurses once per level.
                try JSONStructureScan.check(reply.body, name: "job payload", limits: .payloads)
                let payload = try JSONDecoder().decode(GitLabJobPayload.self, from: Data(reply.body))
                return .job(payload, raw: reply.body)
            } catch {
                let reason = describe(error)
                let failed = await failUndecodableJob(reply.body, reason: reason)
                throw GitLabError.malformed(
                    "GitLab at \(host) sent a job this runner cannot read (\(reason))"
                        + (failed ? "; the job was failed as runner_system_failure" : "")
                        + "\n  fix: check that this Airlock supports the GitLab version, and report it")
            }
        case 204:
            return .noJob(lastUpdate: reply.headers.first(name: "X-GitLab-Last-Update") ?? lastUpdate)
        case 409:
            return .noJob(lastUpdate: lastUpdate)
        case 403:
            throw GitLabError.forbidden(
                "GitLab at \(host) rejected the runner token on job request (403): it was revoked, "
                    + "expired or the runner deleted\n  fix: register the runner again")
        default:
            throw reply.unexpected
        }
    }

    /// Fails a job whose payload does not decode, when its `id` and `token` can still be read:
    /// one trace line saying why, then `state=failed`, `runner_system_failure`. Otherwise GitLab
    /// would wait for it until it times out. Best effort; returns true when GitLab accepted it.
    private func failUndecodableJob(_ raw: [UInt8], reason: String) async -> Bool {
        // Read only the two top-level fields: the payload may be too deep to parse whole.
        let fields = JSONStructureScan.topLevelValues(raw, names: ["id", "token"])
        guard let id = fields["id"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }),
            let literal = fields["token"],
            let token = (try? JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed))
                as? String
        else { return false }
        // Commit it first (two-phase job commit: a pending job takes no trace).
        _ = try? await send(.PUT, "/api/v4/jobs/\(id)", json: ["token": token, "state": "running"])
        let line = Array("ERROR: Airlock cannot read this job (\(reason)); failing it.\n".utf8)
        var headers = HTTPHeaders()
        headers.add(name: "JOB-TOKEN", value: token)
        headers.add(name: "Content-Type", value: "text/plain")
        headers.add(name: "Content-Range", value: "0-\(line.count - 1)")
        let patch = try? await send(.PATCH, "/api/v4/jobs/\(id)/trace", headers: headers, body: line)
        let sent = patch?.status == 202 || patch?.status == 200 ? line : []
        let update: [String: Any] = [
            "token": token, "state": JobState.failed.rawValue,
            "failure_reason": FailureReason.runnerSystemFailure.rawValue,
            "output": ["checksum": gitLabChecksum(sent), "bytesize": sent.count],
        ]
        let reply = try? await send(.PUT, "/api/v4/jobs/\(id)", json: update)
        logger.error("failed undecodable job", metadata: ["job": "\(id)", "reason": "\(reason)"])
        return reply?.status == 200
    }

    private func describe(_ error: any Error) -> String {
        if let error = error as? AirlockError { return error.message }
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "bad value at \(path(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "invalid JSON at \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

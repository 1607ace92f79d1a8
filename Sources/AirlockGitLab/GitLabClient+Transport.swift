import AirlockCore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// One HTTP answer, body collected.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    var host: String
    /// The request, for messages: `POST /api/v4/jobs/request` (job ids as `:id`).
    var endpoint: String = ""

    /// The body as a JSON object; empty when it is not one or is over the payload limits.
    var jsonObject: [String: Any] {
        guard (try? JSONStructureScan.check(body, name: "reply", limits: .payloads)) != nil else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    var excerpt: String {
        String(decoding: body.prefix(300), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var unexpected: GitLabError { .http(status: status, body: "\(host) \(endpoint): \(excerpt)") }
}

extension GitLabClient {
    /// Largest response body read (job payloads are small; error pages are cut).
    static let maxResponseBody = 16 * 1024 * 1024

    /// `path` with job ids replaced by `:id` and the query dropped (`/api/v4/jobs/:id/trace`).
    static func endpoint(_ path: String) -> String {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return bare.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.allSatisfy(\.isNumber) && !$0.isEmpty ? ":id" : String($0) }.joined(separator: "/")
    }

    func send(_ method: HTTPMethod, _ path: String, json: [String: Any]) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return try await send(method, path, headers: headers, body: Array(data))
    }

    /// Sends one request, retrying per `retry` on connection errors, 408, 429 and 5xx.
    ///
    /// Returns the last answer (whatever its status) or throws `GitLabError.unreachable` when no
    /// answer came after the last attempt. Task cancellation stops at once.
    func send(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
        policy: RetryPolicy? = nil, timeout: TimeAmount? = nil
    ) async throws -> Reply {
        let policy = policy ?? retry
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers = headers
        request.headers.replaceOrAdd(name: "Accept", value: "application/json")
        request.headers.replaceOrAdd(name: "User-Agent", value: "airlock-gitlab/1")
        var attempt = 0
        while true {
            attempt += 1
            if let body { request.body = .bytes(body) }
            let delay: Double
            do {
                let response = try await http.execute(request, timeout: timeout ?? requestTimeout)
                let buffer = try await response.body.collect(upTo: Self.maxResponseBody)
                let reply = Reply(
                    status: Int(response.status.code), headers: response.headers,
                    body: Array(buffer.readableBytesView), host: host, endpoint: "\(method) \(Self.endpoint(path))")
                observer?(Self.endpoint(path), reply.status)
                guard Self.isRetryable(reply.status), attempt < policy.maxAttempts else { return reply }
                let requested = RetryPolicy.serverDelay(
                    retryAfter: reply.headers.first(name: "Retry-After"),
                    rateLimitReset: reply.headers.first(name: "RateLimit-ResetTime"))
                delay = min(policy.maxDelay, requested ?? policy.backoff(retry: attempt))
                logger.warning(
                    "GitLab answered \(reply.status), retrying",
                    metadata: ["host": "\(host)", "path": "\(path)", "delay": "\(delay)"])
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                observer?(Self.endpoint(path), 0)
                guard attempt < policy.maxAttempts else {
                    throw GitLabError.unreachable(host: host, underlying: "\(method) \(Self.endpoint(path)): \(error)")
                }
                delay = policy.backoff(retry: attempt)
                logger.warning(
                    "cannot reach GitLab, retrying",
                    metadata: ["host": "\(host)", "path": "\(path)", "error": "\(error)"])
            }
            try await pause(delay)
        }
    }

    /// Wait `seconds` on the client's clock (cancellable).
    func pause(_ seconds: Double) async throws {
        try await clock.sleep(for: .milliseconds(Int64((max(0, seconds) * 1000).rounded())))
    }

    static func isRetryable(_ status: Int) -> Bool {
        status == 408 || status == 429 || (500...599).contains(status)
    }
}

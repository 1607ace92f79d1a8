import AirlockCore
import AirlockGitLab
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Jobs from a GitLab-compatible coordinator (GitLab's runner API): long-polls
/// `POST /api/v4/jobs/request`, then runs each job as a `GitLabAgentJob`.
public final class GitLabSource: JobSource, @unchecked Sendable {
    public let kind = "gitlab"
    public let client: GitLabClient
    let http: GitLabHTTP
    let config: AgentConfig.GitLab
    let info: GitLabRunnerInfo
    let mapper: GitLabJobMapper
    let buildsDir: String
    let agentName: String
    let traceLimit: Int
    let logger: Logger
    let metrics: AgentMetrics
    private let lastUpdate = NIOLockedValueBox<String?>(nil)

    /// `buildsDir` holds each job's fetched sources and outputs while it runs (removed after).
    public init(
        config: AgentConfig.GitLab, agentName: String, defaultProfile: String, buildsDir: String, traceLimit: Int,
        metrics: AgentMetrics, logger: Logger, retry: RetryPolicy = .default
    ) throws {
        self.config = config
        self.agentName = agentName
        self.buildsDir = buildsDir
        self.traceLimit = traceLimit
        self.logger = logger
        self.metrics = metrics
        http = GitLabHTTP()
        client = GitLabClient(
            baseURL: config.url, http: http, retry: retry, logger: logger,
            requestTimeout: .seconds(Int64(max(config.pollTimeout, 5))),
            observer: { endpoint, status in metrics.apiRequest(endpoint: endpoint, status: status) })
        var info = GitLabRunnerInfo.airlockDefault(version: AirlockVersion.current)
        info.name = "airlock"
        self.info = info
        mapper = GitLabJobMapper(images: config.images, defaultProfile: defaultProfile)
        try FileManager.default.createDirectory(atPath: buildsDir, withIntermediateDirectories: true)
        // Traversable (not listable) down to each job's directory, for the unprivileged git fetch.
        var dir = buildsDir
        for _ in 0..<4 {
            _ = chmod(dir, 0o711)
            dir = (dir as NSString).deletingLastPathComponent
        }
        // Sources and outputs of jobs a crashed agent left behind.
        for d in (try? FileManager.default.contentsOfDirectory(atPath: buildsDir)) ?? [] {
            try? FileManager.default.removeItem(atPath: buildsDir + "/" + d)
        }
    }

    deinit { try? http.syncShutdown() }

    public func next() async throws -> (any AgentJob)? {
        let result: JobRequestResult
        do {
            result = try await client.requestJob(
                token: config.token, systemID: config.systemID, info: info,
                lastUpdate: lastUpdate.withLockedValue { $0 })
        } catch let e as GitLabError {
            if case .malformed(let message) = e {
                // The client has already failed that job (runner_system_failure, with a trace
                // line) when its id and token were readable; keep serving.
                logger.error("rejected a job payload: \(message)")
                metrics.jobs(JobOutcome.State.systemFailure.rawValue).increment()
                return nil
            }
            throw e.airlockError
        }
        switch result {
        case .noJob(let lu):
            lastUpdate.withLockedValue { $0 = lu }
            return nil
        case .job(let payload, _):
            return GitLabAgentJob(source: self, payload: payload)
        }
    }

    public func recover(_ record: InFlightRecord) async {
        guard let id = record.fields["job"].flatMap(Int.init), let token = record.fields["token"] else { return }
        let session = makeSession(id: id, token: token)
        session.appendTrace(
            Array(
                "\nERROR: the Airlock agent running this job (pid \(record.agentPID)) stopped; on restart it removed the job's sandbox, workspace and secret leases\n"
                    .utf8))
        do {
            try await session.finish(state: .failed, failureReason: .runnerSystemFailure, exitCode: nil)
        } catch {
            logger.warning("could not report leftover job \(id) failed: \(error)")
        }
    }

    /// A session for a job known only by id and token (crash recovery).
    func makeSession(id: Int, token: String) -> GitLabJobSession {
        let json = try! JSONSerialization.data(withJSONObject: ["id": id, "token": token])
        let minimal = try! JSONDecoder().decode(GitLabJobPayload.self, from: json)
        return GitLabJobSession(
            client: client, payload: minimal, maskValues: [], traceLimit: traceLimit, logger: logger)
    }
}

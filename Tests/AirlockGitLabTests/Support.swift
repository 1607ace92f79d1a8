import AsyncHTTPClient
import Foundation
import GitLabTestCoordinator
import Logging
import NIOConcurrencyHelpers
import NIOCore

@testable import AirlockGitLab

/// A coordinator, an HTTP client and a GitLab client wired to it; shut down by `close()`.
struct Harness {
    let coordinator: TestCoordinator
    let http: HTTPClient
    let client: GitLabClient

    static let info = GitLabRunnerInfo.airlockDefault(version: "0.0.0-test")
    static let fastRetry = RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 2, jitter: 0)

    static func start(
        options: TestCoordinator.Options = TestCoordinator.Options(), retry: RetryPolicy = fastRetry,
        clock: any Clock<Duration> = ContinuousClock()
    ) async throws -> Harness {
        let coordinator = try await TestCoordinator.start(options: options)
        let http = makeHTTPClient()
        let client = GitLabClient(
            baseURL: coordinator.baseURL, http: http, retry: retry, logger: testLogger, requestTimeout: .seconds(10),
            clock: clock)
        return Harness(coordinator: coordinator, http: http, client: client)
    }

    /// A harness for `body`, closed afterwards however `body` ends (Swift has no `await` in
    /// `defer`, so this is the scoped form of it).
    static func with(
        options: TestCoordinator.Options = TestCoordinator.Options(), retry: RetryPolicy = fastRetry,
        clock: any Clock<Duration> = ContinuousClock(), _ body: (Harness) async throws -> Void
    ) async throws {
        let h = try await start(options: options, retry: retry, clock: clock)
        do { try await body(h) } catch {
            await h.close()
            throw error
        }
        await h.close()
    }

    func close() async {
        try? await http.shutdown()
        await coordinator.shutdown()
    }

    /// Enqueues `job`, requests it and opens a session with fast test timings.
    func session(
        for job: JobPayloadBuilder, maskValues: [String] = [], traceLimit: Int = 4 << 20,
        options: GitLabJobSession.Options = Harness.fastOptions
    ) async throws -> GitLabJobSession {
        coordinator.enqueue(job: job)
        let result = try await client.requestJob(
            token: coordinator.runnerToken, systemID: "s_test", info: Self.info, lastUpdate: nil)
        guard case .job(let payload, _) = result else { throw TestFailure("no job handed out") }
        return GitLabJobSession(
            client: client, payload: payload, maskValues: maskValues, traceLimit: traceLimit, logger: testLogger,
            options: options)
    }

    static var fastOptions: GitLabJobSession.Options {
        var options = GitLabJobSession.Options()
        options.defaultUpdateInterval = 0.05
        options.keepAliveInterval = 0.1
        return options
    }
}

func makeHTTPClient() -> HTTPClient {
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(2)))
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.redirectConfiguration = .disallow
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}

let testLogger: Logger = {
    var logger = Logger(label: "airlock-gitlab-test")
    logger.logLevel = .critical
    return logger
}()

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(_ seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}

/// A thread-safe list, for handler callbacks.
final class Recorder<T: Sendable>: Sendable {
    private let box = NIOLockedValueBox<[T]>([])
    func append(_ value: T) { box.withLockedValue { $0.append(value) } }
    var values: [T] { box.withLockedValue { $0 } }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// A clock whose sleeps return at once and are recorded, in seconds: retry tests check the waits
/// the client chose instead of waiting through them.
final class RecordingClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var offset: Duration = .zero
    private var recorded: [Double] = []
    private let origin = ContinuousClock.now

    var now: ContinuousClock.Instant { lock.withLock { origin.advanced(by: offset) } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        lock.withLock {
            let d = max(.zero, origin.advanced(by: offset).duration(to: deadline))
            offset += d
            let c = d.components
            recorded.append(Double(c.seconds) + Double(c.attoseconds) / 1e18)
        }
    }

    /// Every wait so far, in seconds.
    var sleeps: [Double] { lock.withLock { recorded } }
}

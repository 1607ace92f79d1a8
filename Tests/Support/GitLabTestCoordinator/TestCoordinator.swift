import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A scriptable stand-in for GitLab's runner API, on 127.0.0.1 with an ephemeral port.
///
/// It follows GitLab's documented behaviour: long-polled job requests answered 201/204 with
/// `X-GitLab-Last-Update`, 403 for a bad token, job updates answered 200/202/412 with
/// `Job-Status` and `X-GitLab-Trace-Update-Interval`, trace PATCHes checked against
/// `Content-Range` (416 with `Range: 0-<size>`), multipart artifact uploads. Tests script jobs,
/// cancellations and failures, then inspect what arrived.
///
/// ```swift
/// let c = try await TestCoordinator.start()
/// let id = c.enqueue(job: JobPayloadBuilder(script: ["make"]))
/// … run the agent against c.baseURL with c.runnerToken …
/// #expect(c.finalState(jobID: id) == "success")
/// await c.shutdown()
/// ```
public final class TestCoordinator: Sendable {
    /// Tuning of a coordinator.
    public struct Options: Sendable {
        /// Token accepted for job requests and verify.
        public var runnerToken = "glrt-airlock-test-runner-0001"
        /// Token accepted by the legacy registration endpoint.
        public var registrationToken = "GR1348941airlock-registration"
        /// How long a job request is held when nothing changed (GitLab: ~50 s).
        public var longPoll: Double = 0.5
        /// `X-GitLab-Trace-Update-Interval` sent, in seconds (0: let the runner choose).
        public var traceUpdateInterval = 0
        /// Answers still reporting `canceling` after `cancel(jobID:)`, then `canceled`.
        public var cancelingAnswers = 1
        public init() {}
    }

    /// `http://127.0.0.1:<port>`.
    public let baseURL: String
    public let port: Int
    public let runnerToken: String
    let options: Options
    let state: NIOLockedValueBox<CoordinatorState>
    private let server: NIOLockedValueBox<Task<Void, any Error>?>

    private init(port: Int, options: Options, state: NIOLockedValueBox<CoordinatorState>) {
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)"
        self.runnerToken = options.runnerToken
        self.options = options
        self.state = state
        self.server = NIOLockedValueBox(nil)
    }

    /// Starts a coordinator; call `shutdown()` when done.
    public static func start(options: Options = Options()) async throws -> TestCoordinator {
        var initial = CoordinatorState(
            runnerTokens: [options.runnerToken], registrationToken: options.registrationToken)
        initial.traceUpdateInterval = options.traceUpdateInterval
        let state = NIOLockedValueBox(initial)
        let routes = CoordinatorRoutes(state: state, options: options)
        let router = Router()
        routes.register(on: router)
        let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "gitlab-test-coordinator")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "gitlab-test"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in portStream { port = value }
        guard port > 0 else {
            task.cancel()
            throw CancellationError()
        }
        let coordinator = TestCoordinator(port: port, options: options, state: state)
        coordinator.server.withLockedValue { $0 = task }
        return coordinator
    }

    /// Stops the server.
    public func shutdown() async {
        let task = server.withLockedValue { $0 }
        task?.cancel()
        _ = await task?.result
    }
}

import AsyncHTTPClient
import Logging
import NIOCore

/// The HTTP connection pool a `GitLabClient` talks through, owned by whoever made it (the agent's
/// GitLab source, `airlock register`) and shut down by them. It keeps AsyncHTTPClient inside
/// this module: callers never import it (see Layers.txt).
public final class GitLabHTTP: Sendable {
    let client: HTTPClient

    /// A pool on the shared event loop group.
    public init() { client = HTTPClient(eventLoopGroupProvider: .singleton) }

    /// Closes the pool; call it once, when no request is in flight.
    public func shutdown() async throws { try await client.shutdown() }

    /// `shutdown()` for synchronous contexts (a `deinit`); never call it on an event loop.
    public func syncShutdown() throws { try client.syncShutdown() }
}

extension GitLabClient {
    /// A client that talks through `http` (which the caller owns and shuts down); the other
    /// parameters are those of `init(baseURL:http:retry:logger:requestTimeout:observer:)`.
    public convenience init(
        baseURL: String, http: GitLabHTTP, retry: RetryPolicy = .default, logger: Logger,
        requestTimeout: TimeAmount = .seconds(70),
        observer: (@Sendable (_ endpoint: String, _ status: Int) -> Void)? = nil
    ) {
        self.init(
            baseURL: baseURL, http: http.client, retry: retry, logger: logger, requestTimeout: requestTimeout,
            observer: observer)
    }
}

import Foundation
import Hummingbird
import Logging

/// Serves `/metrics` (Prometheus text) and `/healthz` on the configured address.
public enum MetricsServer {
    /// Run until the task is cancelled. `onBound` receives the bound port (useful with port 0).
    public static func run(
        host: String, port: Int, metrics: AgentMetrics, health: @escaping @Sendable () -> (ok: Bool, detail: String),
        logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
        router.get("/healthz") { _, _ -> Response in
            let h = health()
            return Response(
                status: h.ok ? .ok : .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: h.detail + "\n")))
        }
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "airlock-agent"),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? port) }, logger: quiet)
        try await app.runService(gracefulShutdownSignals: [])
    }
}

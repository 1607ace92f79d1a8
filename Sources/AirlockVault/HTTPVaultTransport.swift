import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The real `VaultTransport`: HTTP(S) through AsyncHTTPClient on the shared event loop group.
///
/// The broker's API is synchronous, so each call blocks the calling thread until the response
/// arrives (never call it from an event loop thread). Call `shutdown()` when done; `deinit`
/// does it too.
public final class HTTPVaultTransport: VaultTransport, Sendable {
    /// The server's base address, e.g. `http://127.0.0.1:8200` (no trailing `/v1`).
    public let address: String
    private let client: HTTPClient
    private let requestTimeout: TimeInterval
    private let isShutDown = Mutex(false)

    /// - Parameters:
    ///   - address: `http(s)://host:port` of the OpenBao server.
    ///   - connectTimeout: seconds to wait for the TCP (and TLS) connection.
    ///   - requestTimeout: seconds to wait for a whole exchange.
    public init(address: String, connectTimeout: TimeInterval = 5, requestTimeout: TimeInterval = 30) {
        var trimmed = address
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.address = trimmed
        self.requestTimeout = requestTimeout
        var configuration = HTTPClient.Configuration(
            timeout: .init(
                connect: .milliseconds(Int64(connectTimeout * 1000)),
                read: .milliseconds(Int64(requestTimeout * 1000))))
        // OpenBao never redirects API calls we make; following one could send the token elsewhere.
        configuration.redirectConfiguration = .disallow
        // A refused connection is reported at once instead of retried until the connect timeout:
        // the broker turns it into a clear "unreachable" error for the job.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    deinit { shutdown() }

    /// Close the client's connections. Idempotent.
    public func shutdown() {
        let first = isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
        if first { try? client.syncShutdown() }
    }

    public func send(method: String, path: String, token: String?, body: [String: Any]?) throws -> (
        status: Int, json: [String: Any]
    ) {
        let url = "\(address)/v1/\(path)"
        var headers = HTTPHeaders()
        headers.add(name: "X-Vault-Request", value: "true")
        if let token { headers.add(name: "X-Vault-Token", value: token) }
        var requestBody: HTTPClient.Body?
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            headers.add(name: "Content-Type", value: "application/json")
            requestBody = .bytes(Array(data))
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: url, method: HTTPMethod(rawValue: method), headers: headers, body: requestBody)
        } catch {
            throw VaultTransportError.unreachable(address: address, detail: "invalid address (\(error))")
        }
        let response: HTTPClient.Response
        do {
            let deadline = NIODeadline.now() + .milliseconds(Int64(requestTimeout * 1000))
            response = try client.execute(request: request, deadline: deadline).wait()
        } catch {
            throw VaultTransportError.unreachable(address: address, detail: "\(error)")
        }
        let status = Int(response.status.code)
        guard var buffer = response.body, buffer.readableBytes > 0,
            let bytes = buffer.readBytes(length: buffer.readableBytes)
        else { return (status, [:]) }
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            return (status, object)
        }
        // Not JSON (a proxy's error page, say): keep a short excerpt for error messages only.
        if status >= 400 {
            let text = String(decoding: bytes.prefix(200), as: UTF8.self)
            return (status, ["errors": [text]])
        }
        return (status, [:])
    }
}

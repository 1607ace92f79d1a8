import Foundation

/// One HTTP exchange with an OpenBao / Vault server, as the broker sees it.
///
/// Kept this small so the broker's logic is testable with a fake; `HTTPVaultTransport` is the
/// real one. Implementations never log request or response bodies (they hold secrets).
public protocol VaultTransport: Sendable {
    /// Send `method` to `/v1/<path>` with `token` as `X-Vault-Token` (nil: unauthenticated) and
    /// `body` as JSON. Returns the HTTP status and the decoded JSON object (empty when the
    /// response has no body).
    /// - Throws: `VaultTransportError.unreachable` when the server cannot be reached.
    func send(method: String, path: String, token: String?, body: [String: Any]?) throws -> (
        status: Int, json: [String: Any]
    )
}

/// Why a `VaultTransport` could not complete an exchange.
public enum VaultTransportError: Error, Sendable, CustomStringConvertible {
    /// No answer from `address` (connection refused, timeout, DNS): `detail` says which.
    case unreachable(address: String, detail: String)

    public var description: String {
        switch self {
        case .unreachable(let address, let detail): return "\(address) is unreachable: \(detail)"
        }
    }
}

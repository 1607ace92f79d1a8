import AirlockCore
import AirlockSecrets
import Foundation
import Synchronization

/// The production secret broker: issues a job's secrets from OpenBao (or Vault) through a
/// per-job ACL policy and a short-lived, use-limited child token, and revokes them.
///
/// For one job `issue` creates, in order: the policy `airlock-job-<job>` (read on exactly the
/// declared paths), a token with only that policy (TTL = job TTL + grace, `num_uses` = reads +
/// margin, not renewable), then reads each secret with that token. Every lease (`policy`,
/// `token-accessor`, and each dynamic secret's `lease`) is passed to `record` before it is used.
/// On any failure everything issued so far is revoked before the error is thrown.
///
/// Nothing here logs; errors name secrets, paths and the server, never values or tokens.
public final class OpenBaoBroker: SecretBroker, Sendable {
    public let name = "openbao"
    public let config: OpenBaoConfig
    let transport: any VaultTransport
    /// Injected clock, for tests of the runner-token cache.
    let now: @Sendable () -> Date

    private let cachedToken = Mutex<(token: String, refreshAt: Date?)?>(nil)

    /// A broker talking to `config.address` over HTTP.
    public convenience init(config: OpenBaoConfig) {
        self.init(config: config, transport: HTTPVaultTransport(address: config.address))
    }

    /// A broker using `transport` (a fake in tests). `config.address` is only used in messages.
    public init(config: OpenBaoConfig, transport: any VaultTransport, now: @escaping @Sendable () -> Date = { Date() })
    {
        self.config = config
        self.transport = transport
        self.now = now
    }

    // MARK: - exchanges

    /// One exchange; a transport failure becomes an "unreachable" error.
    func exchange(_ method: String, _ path: String, token: String?, body: [String: Any]? = nil) throws -> (
        status: Int, json: [String: Any]
    ) {
        do {
            return try transport.send(method: method, path: path, token: token, body: body)
        } catch let error as VaultTransportError {
            throw AirlockError(
                .vaultUnreachable, "OpenBao at \(config.address) is unreachable",
                hint: "check that the server runs and that the runner's vault address is right", cause: error)
        }
    }

    /// An exchange with the runner's token: logs in when needed, and once more when a cached
    /// token is refused (it may have been revoked or expired early). A sealed server is
    /// reported as such.
    func runnerExchange(_ method: String, _ path: String, body: [String: Any]? = nil) throws -> (
        status: Int, json: [String: Any]
    ) {
        var (token, fresh) = try runnerToken()
        var result = try exchange(method, path, token: token, body: body)
        if result.status == 403, !fresh, isLoginAuth {
            invalidateRunnerToken()
            (token, fresh) = try runnerToken()
            result = try exchange(method, path, token: token, body: body)
        }
        if result.status == 503 { try throwIfSealed() }
        return result
    }

    private var isLoginAuth: Bool {
        if case .token = config.auth { return false }
        return true
    }

    // MARK: - runner authentication

    /// The runner's token, from the cache while it is far enough from expiry; `fresh` says it
    /// was obtained by this call.
    func runnerToken() throws -> (token: String, fresh: Bool) {
        if case .token(let token) = config.auth { return (token, false) }
        let current = now()
        if let cached = cachedToken.withLock({ $0 }), cached.refreshAt.map({ $0 > current }) ?? true {
            return (cached.token, false)
        }
        let (path, body, what) = loginRequest()
        let result = try exchange("POST", path, token: nil, body: body)
        if result.status == 503 { try throwIfSealed() }
        guard result.status == 200 else {
            if [400, 401, 403].contains(result.status) {
                throw AirlockError(
                    .vaultAuth,
                    "OpenBao at \(config.address) refused the runner's \(what) credentials (HTTP \(result.status)\(Self.reason(result.json)))",
                    hint: "check the runner's \(what) configuration; the credentials may be wrong, expired or used up")
            }
            throw serverError("logging in with \(what) at \(path)", result)
        }
        guard let auth = result.json["auth"] as? [String: Any], let token = auth["client_token"] as? String,
            !token.isEmpty
        else {
            throw AirlockError(
                .vaultServer, "OpenBao at \(config.address) answered the \(what) login without a token",
                hint: "check the auth method's configuration in OpenBao")
        }
        let duration = (auth["lease_duration"] as? NSNumber)?.doubleValue ?? 0
        // Refresh when 10 % (at least 30 s) of the token's life is left, so no issue or revoke
        // starts with a token about to expire.
        let refreshAt = duration > 0 ? current.addingTimeInterval(max(0, duration - max(30, duration * 0.1))) : nil
        cachedToken.withLock { $0 = (token, refreshAt) }
        return (token, true)
    }

    func invalidateRunnerToken() { cachedToken.withLock { $0 = nil } }

    private func loginRequest() -> (path: String, body: [String: Any], what: String) {
        switch config.auth {
        case .appRole(let roleID, let secretID, let mount):
            return ("auth/\(mount)/login", ["role_id": roleID, "secret_id": secretID], "AppRole")
        case .jwt(let role, let jwt, let mount):
            return ("auth/\(mount)/login", ["role": role, "jwt": jwt], "JWT")
        case .token:
            return ("", [:], "token")
        }
    }

    // MARK: - errors

    /// Throws a "sealed" error when `sys/seal-status` says so.
    func throwIfSealed() throws {
        let status = try exchange("GET", "sys/seal-status", token: nil)
        if status.json["sealed"] as? Bool == true {
            throw AirlockError(
                .vaultSealed, "OpenBao at \(config.address) is sealed",
                hint: "unseal it (bao operator unseal) and retry")
        }
    }

    /// `: <the server's errors>`, short, or "" — never a request or response value.
    static func reason(_ json: [String: Any]) -> String {
        guard let errors = json["errors"] as? [Any], !errors.isEmpty else { return "" }
        let text = errors.map { "\($0)" }.joined(separator: "; ")
            .replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\t", with: " ")
        return ": " + (text.count > 200 ? String(text.prefix(200)) + "…" : text)
    }

    func serverError(_ doing: String, _ result: (status: Int, json: [String: Any])) -> AirlockError {
        AirlockError(
            .vaultServer,
            "OpenBao at \(config.address) failed \(doing) (HTTP \(result.status)\(Self.reason(result.json)))",
            hint: "check OpenBao's log for the request")
    }
}

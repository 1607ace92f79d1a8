import AirlockVault
import Foundation

/// An in-memory stand-in for OpenBao: records every exchange and answers like a healthy
/// server unless a test overrides a route.
final class FakeVault: VaultTransport, @unchecked Sendable {
    struct Call {
        var method: String
        var path: String
        var token: String?
        var body: [String: Any]?
        var key: String { "\(method) \(path)" }
    }
    typealias Reply = (status: Int, json: [String: Any])

    private let lock = NSLock()
    private var _calls: [Call] = []
    /// Overrides by "METHOD path"; a closure may throw (e.g. `VaultTransportError`).
    private var routes: [String: (Call) throws -> Reply] = [:]
    private var leaseCounter = 0
    var unreachable = false

    var calls: [Call] { lock.withLock { _calls } }
    var keys: [String] { calls.map(\.key) }

    func on(_ key: String, _ reply: @escaping (Call) throws -> Reply) { lock.withLock { routes[key] = reply } }
    func on(_ key: String, status: Int, json: [String: Any] = [:]) { on(key) { _ in (status, json) } }
    func reset() { lock.withLock { _calls = [] } }

    func send(method: String, path: String, token: String?, body: [String: Any]?) throws -> (
        status: Int, json: [String: Any]
    ) {
        let call = Call(method: method, path: path, token: token, body: body)
        let route: ((Call) throws -> Reply)? = lock.withLock {
            _calls.append(call)
            return routes[call.key]
        }
        if unreachable {
            throw VaultTransportError.unreachable(address: "http://127.0.0.1:1", detail: "connection refused")
        }
        if let route { return try route(call) }
        return defaultReply(call)
    }

    private func defaultReply(_ call: Call) -> Reply {
        switch (call.method, call.path) {
        case ("POST", "auth/approle/login"):
            return (200, ["auth": ["client_token": "runner-token", "accessor": "runner-acc", "lease_duration": 3600]])
        case ("PUT", let p) where p.hasPrefix("sys/policies/acl/"): return (204, [:])
        case ("DELETE", let p) where p.hasPrefix("sys/policies/acl/"): return (204, [:])
        case ("POST", "auth/token/create/airlock-job"), ("POST", "auth/token/create"):
            return (200, ["auth": ["client_token": "job-token", "accessor": "job-acc", "lease_duration": 630]])
        case ("GET", "secret/data/ci/deploy"):
            return (200, ["data": ["data": ["token": "s3cret-kv", "other": 42], "metadata": ["version": 3]]])
        case ("GET", "database/creds/ci"):
            let id = lock.withLock { () -> Int in
                leaseCounter += 1
                return leaseCounter
            }
            return (
                200,
                [
                    "lease_id": "database/creds/ci/L\(id)", "lease_duration": 3600, "renewable": true,
                    "data": ["username": "v-ci-\(id)", "password": "pw-\(id)"],
                ]
            )
        case ("PUT", "sys/leases/revoke"), ("POST", "auth/token/revoke-accessor"): return (204, [:])
        case ("POST", "auth/token/lookup-accessor"): return (200, ["data": ["accessor": "job-acc"]])
        case ("GET", "sys/seal-status"): return (200, ["sealed": false])
        default: return (404, ["errors": []])
        }
    }
}

import AirlockCore
import AirlockSecrets
import Foundation
import Testing

@testable import AirlockVault

/// Wraps the real transport and remembers the job token the broker reads with, so a test can
/// try that token on a path the job did not declare.
final class SpyTransport: VaultTransport, @unchecked Sendable {
    let inner: HTTPVaultTransport
    private let lock = NSLock()
    private var _jobToken: String?
    var jobToken: String? { lock.withLock { _jobToken } }

    init(address: String) { inner = HTTPVaultTransport(address: address) }

    func send(method: String, path: String, token: String?, body: [String: Any]?) throws -> (
        status: Int, json: [String: Any]
    ) {
        let result = try inner.send(method: method, path: path, token: token, body: body)
        if path.hasPrefix("auth/token/create"), let auth = result.json["auth"] as? [String: Any] {
            lock.withLock { _jobToken = auth["client_token"] as? String }
        }
        return result
    }
}

/// Against the real OpenBao and PostgreSQL started by `scripts/start-services.sh`.
@Suite(
    .serialized,
    .enabled(if: ServicesEnv.current != nil, "needs scripts/start-services.sh (writes .build/services/env)"))
struct OpenBaoEndToEndTests {
    let env = ServicesEnv.current!
    let root: HTTPVaultTransport

    init() { root = HTTPVaultTransport(address: ServicesEnv.current!.baoAddress) }

    func broker(transport: (any VaultTransport)? = nil, secretID: String? = nil) -> OpenBaoBroker {
        let config = OpenBaoConfig(
            address: env.baoAddress, auth: .appRole(roleID: env.roleID, secretID: secretID ?? env.secretID))
        return OpenBaoBroker(config: config, transport: transport ?? HTTPVaultTransport(address: env.baoAddress))
    }

    func asRoot(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> (
        status: Int, json: [String: Any]
    ) {
        try root.send(method: method, path: path, token: env.rootToken, body: body)
    }

    func psqlLogin(user: String, password: String) throws -> (status: Int32, output: String) {
        try run(
            env.psql,
            ["-h", env.pgHost, "-p", env.pgPort, "-U", user, "-d", env.pgDatabase, "-tAc", "select 1"],
            environment: ["PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"])
    }

    static let kv = SecretRequest(name: "deploy", source: .vaultKV(path: "secret/ci/deploy", field: "token"))
    static let db = SecretRequest(name: "db", source: .vaultDynamic(path: "database/creds/ci", field: nil))

    @Test func issuesKVAndDatabaseCredentialsAndRevokesThem() throws {
        // The value the job must see, written fresh (as the operator would).
        let expected = "kv-\(UUID().uuidString)"
        #expect(try asRoot("POST", "secret/data/ci/deploy", ["data": ["token": expected]]).status == 200)
        #expect(try asRoot("POST", "secret/data/ci/other", ["data": ["token": "not-for-this-job"]]).status == 200)

        let spy = SpyTransport(address: env.baoAddress)
        let broker = broker(transport: spy)
        let jobID = "e2e-\(UUID().uuidString.prefix(8).lowercased())"
        var recorded: [Lease] = []
        let start = Date()
        let issued = try broker.issue(jobID: jobID, requests: [Self.kv, Self.db], ttl: 300) { recorded.append($0) }
        let issueTime = Date().timeIntervalSince(start)

        #expect(recorded.map(\.kind) == ["policy", "token-accessor", "lease"])
        #expect(issued[0].value.withBytes { String(decoding: $0, as: UTF8.self) } == expected)
        let creds = try #require(
            issued[1].value.withBytes { try JSONSerialization.jsonObject(with: Data($0)) } as? [String: String])
        let user = try #require(creds["username"])
        let password = try #require(creds["password"])
        let login = try psqlLogin(user: user, password: password)
        #expect(login.status == 0, "psql: \(login.output)")
        #expect(login.output.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        // The job token as OpenBao sees it: only the job policy, bounded, not renewable.
        let accessor = recorded[1].id
        let looked = try asRoot("POST", "auth/token/lookup-accessor", ["accessor": accessor])
        let data = try #require(looked.json["data"] as? [String: Any])
        #expect(data["policies"] as? [String] == ["airlock-job-\(jobID)"])
        #expect((data["ttl"] as? Int).map { $0 > 300 && $0 <= 330 } == true)
        #expect(data["renewable"] as? Bool == false)
        #expect(data["num_uses"] as? Int == 2)  // 2 reads + margin 2, two used
        #expect(try broker.tokenIsValid(accessor: accessor))

        // Outside the declared paths the job token gets nothing.
        let jobToken = try #require(spy.jobToken)
        let other = try spy.inner.send(method: "GET", path: "secret/data/ci/other", token: jobToken, body: nil)
        #expect(other.status == 403)
        // The job's own credentials are still live until revoked.
        #expect(try psqlLogin(user: user, password: password).status == 0)

        // Revoke everything the journal holds.
        let revokeStart = Date()
        for lease in recorded.reversed() { try broker.revoke(lease) }
        let revokeTime = Date().timeIntervalSince(revokeStart)
        print(
            "openbao e2e: issue (login + policy + token + 2 reads) \(Int(issueTime * 1000)) ms, revoke 3 leases \(Int(revokeTime * 1000)) ms"
        )

        #expect(try !broker.tokenIsValid(accessor: accessor))
        let after = try psqlLogin(user: user, password: password)
        #expect(after.status != 0, "the database login still works after revoke")
        #expect(try asRoot("GET", "sys/policies/acl/airlock-job-\(jobID)").status == 404)
        #expect(
            try spy.inner.send(method: "GET", path: "secret/data/ci/deploy", token: jobToken, body: nil).status == 403)

        // Revoking again (a journal replay after a crash) is fine.
        for lease in recorded.reversed() { try broker.revoke(lease) }
    }

    @Test func aFailingSecondSecretLeavesNothingBehind() throws {
        let broker = broker()
        let missing = SecretRequest(name: "missing", source: .vaultKV(path: "secret/ci/does-not-exist", field: "x"))
        var recorded: [Lease] = []
        let error = try #require(throws: AirlockError.self) {
            _ = try broker.issue(jobID: "e2e-fail", requests: [Self.db, missing], ttl: 120) { recorded.append($0) }
        }
        #expect(error.code == .vaultNotFound)
        #expect(error.message.contains("'missing'") && error.message.contains("secret/data/ci/does-not-exist"))
        #expect(recorded.map(\.kind) == ["policy", "token-accessor", "lease"])
        #expect(try !broker.tokenIsValid(accessor: recorded[1].id))
        #expect(try asRoot("GET", "sys/policies/acl/airlock-job-e2e-fail").status == 404)
        let lease = try asRoot("PUT", "sys/leases/lookup", ["lease_id": recorded[2].id])
        #expect(lease.status == 400, "the database lease is still there")
    }

    @Test func aPathTheRunnerMayNotIssueIsDenied() throws {
        // The policy grants the job exactly this path, but no such mount exists.
        let bogus = SecretRequest(name: "bogus", source: .vaultDynamic(path: "nosuchmount/creds/x", field: nil))
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "e2e-bogus", requests: [bogus], ttl: 60) { _ in }
        }
        #expect([.vaultDenied, .vaultNotFound].contains(error.code))
        #expect(error.message.contains("nosuchmount/creds/x"))
    }

    @Test func badAppRoleCredentials() throws {
        let error = try #require(throws: AirlockError.self) {
            _ = try broker(secretID: "00000000-0000-0000-0000-000000000000")
                .issue(jobID: "e2e-bad", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultAuth)
        #expect(error.message.contains(env.baoAddress))
        #expect(!error.message.contains(env.secretID))
    }

    @Test func anUnreachableAddress() throws {
        let address = "http://127.0.0.1:\(closedLoopbackPort())"
        let broker = OpenBaoBroker(
            config: OpenBaoConfig(address: address, auth: .appRole(roleID: env.roleID, secretID: env.secretID)))
        let start = Date()
        let error = try #require(throws: AirlockError.self) {
            _ = try broker.issue(jobID: "e2e-unreachable", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultUnreachable)
        #expect(error.message.contains(address))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func aSealedServer() throws {
        // A second dev server of our own, sealed, so the shared one stays usable.
        let port = closedLoopbackPort()
        let token = UUID().uuidString
        let process = Process()
        process.executableURL = URL(fileURLWithPath: env.bao)
        process.arguments = [
            "server", "-dev", "-dev-listen-address=127.0.0.1:\(port)", "-dev-root-token-id=\(token)",
            "-dev-no-store-token",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        let address = "http://127.0.0.1:\(port)"
        let transport = HTTPVaultTransport(address: address)
        var up = false
        for _ in 0..<100 where !up {
            if let health = try? transport.send(method: "GET", path: "sys/health", token: nil, body: nil),
                health.status == 200
            {
                up = true
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        try #require(up, "the second OpenBao dev server did not start")
        #expect(try transport.send(method: "PUT", path: "sys/seal", token: token, body: nil).status == 204)

        for auth in [OpenBaoConfig.Auth.token(token), .appRole(roleID: "r", secretID: "s")] {
            let broker = OpenBaoBroker(config: OpenBaoConfig(address: address, auth: auth), transport: transport)
            let error = try #require(throws: AirlockError.self) {
                _ = try broker.issue(jobID: "e2e-sealed", requests: [Self.kv], ttl: 60) { _ in }
            }
            #expect(error.code == .vaultSealed)
            #expect(error.message.contains(address) && error.message.contains("sealed"))
            #expect(!error.message.contains(token))
        }
    }
}

import AirlockCore
import AirlockSecrets
import Foundation
import Testing

@testable import AirlockVault

/// The broker's logic against `FakeVault`: no server needed.
@Suite struct OpenBaoBrokerTests {
    let fake = FakeVault()

    func broker(
        maxTTL: Double = 24 * 3600, auth: OpenBaoConfig.Auth? = nil, now: @escaping @Sendable () -> Date = Date.init
    )
        -> OpenBaoBroker
    {
        OpenBaoBroker(
            config: OpenBaoConfig(
                address: "http://127.0.0.1:8200", auth: auth ?? .appRole(roleID: "role-1", secretID: "sid-1"),
                maxTTL: maxTTL),
            transport: fake, now: now)
    }

    static let kv = SecretRequest(name: "deploy", source: .vaultKV(path: "secret/ci/deploy", field: "token"))
    static let db = SecretRequest(name: "db", source: .vaultDynamic(path: "database/creds/ci", field: nil))
    static let dbPassword = SecretRequest(
        name: "dbpw", source: .vaultDynamic(path: "database/creds/ci", field: "password"))

    static func text(_ value: SecretValue) -> String { value.withBytes { String(decoding: $0, as: UTF8.self) } }

    /// The `path "…"` stanzas of a policy document, and every capability it grants.
    static func parsePolicy(_ document: String) -> (paths: [String], capabilities: Set<String>) {
        var paths: [String] = []
        var caps = Set<String>()
        for line in document.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("path \""), let end = t.dropFirst(6).firstIndex(of: "\"") {
                paths.append(String(t[t.index(t.startIndex, offsetBy: 6)..<end]))
            }
            if t.hasPrefix("capabilities") {
                for part in t.split(separator: "\"").enumerated() where part.offset % 2 == 1 {
                    caps.insert(String(part.element))
                }
            }
        }
        return (paths, caps)
    }

    @Test func issuesThroughAJobPolicyAndAJobToken() throws {
        var recorded: [Lease] = []
        let issued = try broker().issue(jobID: "job-1", requests: [Self.kv, Self.db], ttl: 600) { recorded.append($0) }

        #expect(
            fake.keys == [
                "POST auth/approle/login", "PUT sys/policies/acl/airlock-job-job-1",
                "POST auth/token/create/airlock-job", "GET secret/data/ci/deploy", "GET database/creds/ci",
            ])
        let calls = fake.calls
        // Login: unauthenticated, with the AppRole credentials.
        #expect(calls[0].token == nil)
        #expect(calls[0].body?["role_id"] as? String == "role-1")
        #expect(calls[0].body?["secret_id"] as? String == "sid-1")
        // The policy allows exactly the declared paths, read only.
        #expect(calls[1].token == "runner-token")
        let document = try #require(calls[1].body?["policy"] as? String)
        let policy = Self.parsePolicy(document)
        #expect(policy.paths == ["secret/data/ci/deploy", "database/creds/ci"])
        #expect(policy.capabilities == ["read"])
        // The token: only that policy, TTL = ttl + 30 s grace, uses = reads + 2, not renewable.
        let token = try #require(calls[2].body)
        #expect(calls[2].token == "runner-token")
        #expect(token["policies"] as? [String] == ["airlock-job-job-1"])
        #expect(token["no_default_policy"] as? Bool == true)
        #expect(token["ttl"] as? String == "630s")
        #expect(token["num_uses"] as? Int == 4)
        #expect(token["renewable"] as? Bool == false)
        // Reads use the job token, never the runner's.
        #expect(calls[3].token == "job-token")
        #expect(calls[4].token == "job-token")

        #expect(recorded.map(\.kind) == ["policy", "token-accessor", "lease"])
        #expect(recorded.map(\.id) == ["airlock-job-job-1", "job-acc", "database/creds/ci/L1"])
        #expect(recorded.allSatisfy { $0.broker == "openbao" && $0.jobID == "job-1" })
        #expect(recorded[2].secretName == "db")

        #expect(issued.count == 2)
        #expect(Self.text(issued[0].value) == "s3cret-kv")
        #expect(Self.text(issued[1].value) == #"{"password":"pw-1","username":"v-ci-1"}"#)
        #expect(issued[0].leases.map(\.kind) == ["policy", "token-accessor"])
        #expect(issued[1].leases.map(\.id) == ["database/creds/ci/L1"])
        #expect("\(issued[0].value)" == "[MASKED]")
    }

    @Test func aDynamicFieldAndNonStringKVValues() throws {
        let other = SecretRequest(name: "n", source: .vaultKV(path: "secret/ci/deploy", field: "other"))
        let issued = try broker().issue(jobID: "j", requests: [Self.dbPassword, other], ttl: 60) { _ in }
        #expect(Self.text(issued[0].value) == "pw-1")
        #expect(Self.text(issued[1].value) == "42")
    }

    @Test func leasesAreRecordedBeforeTheyAreUsed() throws {
        // The token's accessor must be journaled before any read with the token.
        var log: [String] = []
        fake.on("GET secret/data/ci/deploy") { _ in
            log.append("read")
            return (200, ["data": ["data": ["token": "x"]]])
        }
        _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { log.append("record \($0.kind)") }
        #expect(log == ["record policy", "record token-accessor", "read"])
    }

    @Test func secondSecretFailingRevokesEverything() throws {
        fake.on("GET secret/data/ci/deploy", status: 403, json: ["errors": ["permission denied"]])
        var recorded: [Lease] = []
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "job-2", requests: [Self.db, Self.kv], ttl: 600) { recorded.append($0) }
        }
        #expect(error.code == .vaultDenied)
        #expect(error.message.contains("'deploy'"))
        #expect(error.message.contains("secret/data/ci/deploy"))
        #expect(!error.message.contains("pw-1") && !error.message.contains("job-token"))
        #expect(recorded.map(\.kind) == ["policy", "token-accessor", "lease"])
        // Newest first: the database lease, the job token, the policy.
        let revokes = fake.calls.suffix(3)
        #expect(
            revokes.map(\.key) == [
                "PUT sys/leases/revoke", "POST auth/token/revoke-accessor", "DELETE sys/policies/acl/airlock-job-job-2",
            ])
        #expect(revokes.first?.body?["lease_id"] as? String == "database/creds/ci/L1")
        #expect(revokes.dropFirst().first?.body?["accessor"] as? String == "job-acc")
        #expect(revokes.allSatisfy { $0.token == "runner-token" })
    }

    @Test func aFailingRecordRevokesWhatExists() throws {
        struct JournalFull: Error {}
        var n = 0
        #expect(throws: JournalFull.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in
                n += 1
                if n == 2 { throw JournalFull() }
            }
        }
        #expect(fake.keys.suffix(2) == ["POST auth/token/revoke-accessor", "DELETE sys/policies/acl/airlock-job-j"])
        #expect(!fake.keys.contains("GET secret/data/ci/deploy"))
    }

    @Test func notFoundNamesThePath() throws {
        fake.on("GET secret/data/ci/deploy", status: 404, json: ["errors": []])
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultNotFound)
        #expect(error.message.contains("'deploy'") && error.message.contains("secret/data/ci/deploy"))
        #expect(fake.keys.suffix(2) == ["POST auth/token/revoke-accessor", "DELETE sys/policies/acl/airlock-job-j"])
    }

    @Test func aMissingFieldIsNamedButNoValueIs() throws {
        let wrong = SecretRequest(name: "w", source: .vaultKV(path: "secret/ci/deploy", field: "nope"))
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [wrong], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultNotFound)
        #expect(error.message.contains("'nope'"))
        #expect(!"\(error)".contains("s3cret-kv"))
    }

    @Test func sealedIsReported() throws {
        fake.on("POST auth/approle/login", status: 503, json: ["errors": ["Vault is sealed"]])
        fake.on("GET sys/seal-status", status: 200, json: ["sealed": true])
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultSealed)
        #expect(error.message.contains("http://127.0.0.1:8200") && error.message.contains("sealed"))
        #expect(error.message.contains("'deploy'"))
    }

    @Test func sealedAfterLoginIsReportedToo() throws {
        let b = broker(auth: .token("root"))
        fake.on("PUT sys/policies/acl/airlock-job-j", status: 503, json: ["errors": ["Vault is sealed"]])
        fake.on("GET sys/seal-status", status: 200, json: ["sealed": true])
        let error = try #require(throws: AirlockError.self) {
            _ = try b.issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultSealed)
        #expect(!error.message.contains("root"))
    }

    @Test func unreachableNamesTheAddress() throws {
        fake.unreachable = true
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultUnreachable)
        #expect(error.message.contains("http://127.0.0.1:8200") && error.message.contains("unreachable"))
    }

    @Test func badCredentials() throws {
        fake.on("POST auth/approle/login", status: 400, json: ["errors": ["invalid role or secret ID"]])
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultAuth)
        #expect(error.message.contains("AppRole") && error.message.contains("invalid role or secret ID"))
        #expect(!error.message.contains("sid-1"))
        #expect(fake.keys == ["POST auth/approle/login"])
    }

    @Test func jwtLogin() throws {
        let b = broker(auth: .jwt(role: "ci", jwt: "eyJ.x.y"))
        fake.on("POST auth/jwt/login") { call in
            #expect(call.body?["role"] as? String == "ci")
            #expect(call.body?["jwt"] as? String == "eyJ.x.y")
            return (200, ["auth": ["client_token": "runner-token", "lease_duration": 600]])
        }
        _ = try b.issue(jobID: "j", requests: [Self.kv], ttl: 60) { _ in }
        #expect(fake.keys.first == "POST auth/jwt/login")
    }

    @Test func ttlAboveTheMaximumIsRefusedBeforeIssuing() throws {
        let error = try #require(throws: AirlockError.self) {
            _ = try broker(maxTTL: 3600).issue(jobID: "j", requests: [Self.kv], ttl: 7200) { _ in }
        }
        #expect(error.code == .vaultRequest)
        #expect(error.message.contains("'deploy'") && error.message.contains("maximum"))
        #expect(fake.calls.isEmpty)
        // A secret's own ttl is checked too.
        var long = Self.kv
        long.ttl = 100_000
        #expect(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [long], ttl: 60) { _ in }
        }
        #expect(fake.calls.isEmpty)
    }

    @Test(arguments: [
        "secret/*", "secret/ci/+/x", "secret/../sys", "secret//x", "/secret/x",
        "secret/x\" { capabilities = [\"sudo\"] }",
    ])
    func pathsThatWouldWidenThePolicyAreRefused(_ path: String) throws {
        let bad = SecretRequest(name: "bad", source: .vaultKV(path: path, field: "f"))
        let error = try #require(throws: AirlockError.self) {
            _ = try broker().issue(jobID: "j", requests: [Self.kv, bad], ttl: 60) { _ in }
        }
        #expect(error.code == .vaultRequest)
        #expect(error.message.contains("'bad'"))
        #expect(fake.calls.isEmpty)
    }

    @Test func localSecretsAreNotOurs() {
        let local = SecretRequest(name: "l", source: .local(name: "x"))
        #expect(throws: AirlockError.self) { _ = try broker().issue(jobID: "j", requests: [local], ttl: 60) { _ in } }
        #expect(fake.calls.isEmpty)
    }

    @Test func theRunnerTokenIsCachedUntilNearExpiry() throws {
        let clock = Clock()
        let b = broker(now: { clock.now })
        _ = try b.issue(jobID: "a", requests: [Self.kv], ttl: 60) { _ in }
        clock.now += 3000  // < 3600 - 360
        _ = try b.issue(jobID: "b", requests: [Self.kv], ttl: 60) { _ in }
        #expect(fake.keys.filter { $0 == "POST auth/approle/login" }.count == 1)
        clock.now += 300  // past the refresh point
        _ = try b.issue(jobID: "c", requests: [Self.kv], ttl: 60) { _ in }
        #expect(fake.keys.filter { $0 == "POST auth/approle/login" }.count == 2)
    }

    @Test func aRefusedCachedTokenIsRenewedOnce() throws {
        let b = broker()
        _ = try b.issue(jobID: "a", requests: [Self.kv], ttl: 60) { _ in }
        var first = true
        fake.on("PUT sys/policies/acl/airlock-job-b") { _ in
            defer { first = false }
            return first ? (403, ["errors": ["permission denied"]]) : (204, [:])
        }
        fake.reset()
        _ = try b.issue(jobID: "b", requests: [Self.kv], ttl: 60) { _ in }
        #expect(
            Array(fake.keys.prefix(3)) == [
                "PUT sys/policies/acl/airlock-job-b", "POST auth/approle/login", "PUT sys/policies/acl/airlock-job-b",
            ])
    }

    static func lease(_ kind: String, _ id: String) -> Lease {
        Lease(
            broker: "openbao", id: id, kind: kind, jobID: "j", secretName: "s", source: "x", issuedAt: Date(),
            expiresAt: Date())
    }

    @Test func revokeSendsTheRightRequestPerKind() throws {
        let b = broker()
        try b.revoke(Self.lease("lease", "database/creds/ci/L9"))
        try b.revoke(Self.lease("token-accessor", "acc-9"))
        try b.revoke(Self.lease("policy", "airlock-job-j"))
        let calls = fake.calls.filter { $0.path != "auth/approle/login" }
        #expect(
            calls.map(\.key) == [
                "PUT sys/leases/revoke", "POST auth/token/revoke-accessor", "DELETE sys/policies/acl/airlock-job-j",
            ])
        #expect(calls[0].body?["lease_id"] as? String == "database/creds/ci/L9")
        #expect(calls[1].body?["accessor"] as? String == "acc-9")
    }

    @Test func revokeTreatsAlreadyGoneAsSuccess() throws {
        let b = broker()
        fake.on("PUT sys/leases/revoke", status: 400, json: ["errors": ["invalid lease ID"]])
        fake.on("POST auth/token/revoke-accessor", status: 400, json: ["errors": ["invalid accessor"]])
        fake.on("DELETE sys/policies/acl/airlock-job-j", status: 404)
        for _ in 0..<2 {
            try b.revoke(Self.lease("lease", "gone"))
            try b.revoke(Self.lease("token-accessor", "gone"))
            try b.revoke(Self.lease("policy", "airlock-job-j"))
        }
    }

    @Test func revokeReportsRealFailures() throws {
        let b = broker()
        fake.on("PUT sys/leases/revoke", status: 500, json: ["errors": ["storage down"]])
        let error = try #require(throws: AirlockError.self) { try b.revoke(Self.lease("lease", "L1")) }
        #expect(error.message.contains("L1") && error.message.contains("storage down"))
        #expect(throws: AirlockError.self) { try b.revoke(Self.lease("policy", "default")) }
        #expect(throws: AirlockError.self) { try b.revoke(Self.lease("mystery", "x")) }
        var foreign = Self.lease("lease", "L1")
        foreign.broker = "embedded"
        #expect(throws: AirlockError.self) { try b.revoke(foreign) }
    }

    @Test func tokenValidity() throws {
        let b = broker()
        #expect(try b.tokenIsValid(accessor: "job-acc"))
        fake.on("POST auth/token/lookup-accessor", status: 400, json: ["errors": ["invalid accessor"]])
        #expect(try !b.tokenIsValid(accessor: "job-acc"))
    }

    @Test func policyNames() {
        #expect(VaultPolicy.name(prefix: "airlock-job-", jobID: "build-42") == "airlock-job-build-42")
        let odd = VaultPolicy.name(prefix: "airlock-job-", jobID: "Build/42")
        #expect(odd.hasPrefix("airlock-job-build-42-"))
        #expect(odd != VaultPolicy.name(prefix: "airlock-job-", jobID: "build/42"))
    }
}

final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var _now = Date(timeIntervalSince1970: 1_000_000)
    var now: Date {
        get { lock.withLock { _now } }
        set { lock.withLock { _now = newValue } }
    }
}

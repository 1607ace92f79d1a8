import AirlockCore
import Foundation
import Testing

@testable import AirlockSecrets

@Suite struct SecretScopeTests {
    struct Setup {
        let dir: TempDir
        let journal: LeaseJournal
        let access: SecretAccessLog
        let store: EmbeddedSecretStore
        init() throws {
            dir = try TempDir()
            journal = LeaseJournal(stateDir: dir.path)
            access = SecretAccessLog(stateDir: dir.path)
            store = EmbeddedSecretStore(stateDir: dir.path)
        }
    }

    static func requests(_ names: [String]) -> [SecretRequest] {
        names.map { SecretRequest(name: $0, source: .vaultKV(path: "kv/ci", field: $0)) }
    }

    @Test func embeddedBrokerIssuesLocalSecrets() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        try s.store.put(name: "npm", value: SecretValue("npm-secret-value"))
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let broker = EmbeddedBroker(store: s.store, now: { t0 })
        var recorded: [Lease] = []
        let issued = try broker.issue(
            jobID: "j1", requests: [SecretRequest(name: "NPM_TOKEN", source: .local(name: "npm"), ttl: 60)],
            ttl: 600
        ) { recorded.append($0) }
        #expect(issued.count == 1)
        #expect(issued[0].value.withBytes { $0 } == Array("npm-secret-value".utf8))
        let lease = try #require(issued[0].leases.first)
        #expect(recorded == [lease])
        #expect(lease.broker == "embedded" && lease.kind == "embedded" && lease.jobID == "j1")
        #expect(lease.secretName == "NPM_TOKEN" && lease.source == "local:npm")
        #expect(lease.expiresAt == t0.addingTimeInterval(60))
        #expect(lease.id.count == 32)
        try broker.revoke(lease)  // a no-op that succeeds
    }

    @Test func embeddedBrokerRefusesOtherSourcesAndUnknownNames() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        let broker = EmbeddedBroker(store: s.store)
        var recorded = 0
        var e = try #require(throws: AirlockError.self) {
            try broker.issue(jobID: "j", requests: Self.requests(["x"]), ttl: 60) { _ in recorded += 1 }
        }
        #expect(e.code == .secretIssue)
        #expect(e.message.contains("'vault:kv/ci#x'"))
        try s.store.put(name: "a", value: SecretValue("aaaa-value"))
        e = try #require(throws: AirlockError.self) {
            try broker.issue(
                jobID: "j",
                requests: [.init(name: "a", source: .local(name: "a")), .init(name: "b", source: .local(name: "b"))],
                ttl: 60
            ) { _ in recorded += 1 }
        }
        #expect(e.code == .secretUnknown)
        #expect(recorded == 1)
    }

    @Test func revokesEverythingAndWipesAfterSuccess() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        let fake = FakeBroker()
        var kept: [SecretValue] = []
        let result = try SecretScope.withSecrets(
            broker: fake, journal: s.journal, access: s.access, jobID: "job-1", requests: Self.requests(["a", "b"]),
            ttl: 60
        ) { issued throws -> Int in
            // While the body runs the leases are journalled as outstanding.
            #expect(try s.journal.outstanding().map(\.id) == ["fake-a", "fake-b"])
            kept = issued.map(\.value)
            #expect(issued[0].value.withBytes { $0 } == Array("value-of-a".utf8))
            return 42
        }
        #expect(result == 42)
        #expect(Set(fake.revoked) == ["fake-a", "fake-b"])
        #expect(try s.journal.outstanding().isEmpty)
        #expect(kept.allSatisfy { $0.count == 0 })
        let events = try s.access.entries()
        #expect(events.map(\.event) == [.issued, .issued, .revoked, .revoked])
        #expect(Set(events.map(\.secret)) == ["a", "b"])
    }

    @Test func revokesOnThrow() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        let fake = FakeBroker()
        var kept: [SecretValue] = []
        #expect(throws: FakeError.self) {
            try SecretScope.withSecrets(
                broker: fake, journal: s.journal, access: s.access, jobID: "job-2",
                requests: Self.requests(["a", "b"]),
                ttl: 60
            ) { issued -> Void in
                kept = issued.map(\.value)
                throw FakeError(text: "step failed")
            }
        }
        #expect(Set(fake.revoked) == ["fake-a", "fake-b"])
        #expect(try s.journal.outstanding().isEmpty)
        #expect(kept.count == 2 && kept.allSatisfy { $0.count == 0 })
    }

    @Test func revokesWhatWasIssuedWhenIssuingFailsPartWay() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        let fake = FakeBroker()
        fake.failIssueAt = "c"
        var ran = false
        #expect(throws: FakeError.self) {
            try SecretScope.withSecrets(
                broker: fake, journal: s.journal, access: s.access, jobID: "j",
                requests: Self.requests(["a", "b", "c"]),
                ttl: 60
            ) { _ in ran = true }
        }
        #expect(!ran)
        #expect(fake.revoked.contains("fake-a") && fake.revoked.contains("fake-b"))
        #expect(try s.journal.outstanding().isEmpty)
    }

    @Test func aFailedRevokeIsThrownAfterTheOthersAndStaysInTheJournal() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        let fake = FakeBroker()
        fake.failing = ["fake-b"]
        let e = try #require(throws: AirlockError.self) {
            try SecretScope.withSecrets(
                broker: fake, journal: s.journal, access: s.access, jobID: "job-3",
                requests: Self.requests(["a", "b", "c"]),
                ttl: 60
            ) { _ in "ok" }
        }
        #expect(e.code == .secretRevoke)
        #expect(e.message.contains("job job-3: 1 of 3"))
        #expect(e.message.contains("fake-b") && e.message.contains("broker down"))
        #expect(e.hint?.contains(s.journal.path) == true)
        #expect(Set(fake.revoked) == ["fake-a", "fake-c"])
        #expect(try s.journal.outstanding().map(\.id) == ["fake-b"])
        #expect(try s.access.entries().contains { $0.event == .revokeFailed && $0.leaseID == "fake-b" })

        // When the body failed too, both are reported.
        let e2 = try #require(throws: AirlockError.self) {
            try SecretScope.withSecrets(
                broker: fake, journal: s.journal, access: s.access, jobID: "job-4", requests: Self.requests(["b"]),
                ttl: 60
            ) { _ in throw FakeError(text: "compile error") }
        }
        #expect(e2.message.contains("the job had failed too: compile error"))
        #expect(e2.cause is FakeError)
    }

    @Test func worksWithTheEmbeddedBrokerAndTheRouter() throws {
        let s = try Setup()
        defer { s.dir.cleanup() }
        try s.store.put(name: "npm", value: SecretValue("npm-secret-value"))
        let fake = FakeBroker(name: "openbao")
        let router = SecretBrokerRouter(local: EmbeddedBroker(store: s.store), vault: fake)
        let requests = [
            SecretRequest(name: "kv", source: .vaultKV(path: "kv/ci", field: "kv")),
            SecretRequest(name: "NPM", source: .local(name: "npm")),
        ]
        let names = try SecretScope.withSecrets(
            broker: router, journal: s.journal, access: s.access, jobID: "j", requests: requests, ttl: 60
        ) { issued in
            issued.map { "\($0.request.name)=\($0.value.withBytes { String(decoding: $0, as: UTF8.self) })" }
        }
        #expect(names == ["kv=value-of-kv", "NPM=npm-secret-value"])
        #expect(fake.revoked == ["openbao-kv"])
        #expect(try s.journal.outstanding().isEmpty)
        #expect(Set(try s.journal.events().map(\.lease.broker)) == ["embedded", "openbao"])
    }
}

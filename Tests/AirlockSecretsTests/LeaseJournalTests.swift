import AirlockCore
import Foundation
import Testing

@testable import AirlockSecrets

@Suite struct LeaseJournalTests {
    @Test func outstandingIsIssuedMinusRevoked() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let journal = LeaseJournal(stateDir: dir.path)
        #expect(try journal.outstanding() == [])
        let a = FakeBroker.lease(broker: "fake", id: "a")
        let b = FakeBroker.lease(broker: "fake", id: "b")
        let c = FakeBroker.lease(broker: "other", id: "a")  // same id, other broker
        try journal.append(issued: a)
        try journal.append(issued: b)
        try journal.append(issued: c)
        try journal.append(revoked: b)
        #expect(try journal.outstanding().map(\.key) == [a.key, c.key])
        #expect(try permissions(journal.path) == 0o600)
        #expect(try permissions(journal.directory) == 0o700)
        // One JSON object per line, no values.
        let text = try String(contentsOfFile: journal.path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 4)
        #expect(text.contains("\"event\":\"revoked\""))
    }

    @Test func toleratesATornLastLine() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let journal = LeaseJournal(stateDir: dir.path)
        try journal.append(issued: FakeBroker.lease(broker: "fake", id: "a"))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: journal.path))
        try h.seekToEnd()
        try h.write(contentsOf: Data("{\"event\":\"issued\",\"lea".utf8))
        try h.close()
        #expect(try journal.outstanding().map(\.id) == ["a"])
        try journal.append(issued: FakeBroker.lease(broker: "fake", id: "b"))
        // The next line starts on a fresh line, so the fragment costs nothing.
        #expect(try journal.outstanding().map(\.id) == ["a", "b"])
    }

    @Test func compactKeepsOnlyOutstanding() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let journal = LeaseJournal(stateDir: dir.path)
        for i in 0..<10 { try journal.append(issued: FakeBroker.lease(broker: "fake", id: "l\(i)")) }
        for i in 0..<10 where i != 3 && i != 7 {
            try journal.append(revoked: FakeBroker.lease(broker: "fake", id: "l\(i)"))
        }
        let before = try journal.outstanding()
        try journal.compact()
        #expect(try journal.outstanding() == before)
        #expect(before.map(\.id) == ["l3", "l7"])
        #expect(try journal.events().count == 2)
        #expect(try permissions(journal.path) == 0o600)
        #expect(filesBelow(journal.directory).allSatisfy { !$0.hasSuffix(".tmp") })
    }

    @Test func replayRevokesOutstandingLeasesOnly() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let journal = LeaseJournal(stateDir: dir.path)
        let access = SecretAccessLog(stateDir: dir.path)
        let fake = FakeBroker(name: "fake")
        let leases = (0..<5).map { FakeBroker.lease(broker: "fake", id: "lease-\($0)") }
        for l in leases { try journal.append(issued: l) }
        try journal.append(revoked: leases[1])
        try journal.append(revoked: leases[3])
        // An expired embedded lease is dead already; a live one goes to its broker.
        let expired = FakeBroker.lease(
            broker: "embedded", id: "e1", kind: "embedded", expires: Date(timeIntervalSinceNow: -5))
        let live = FakeBroker.lease(broker: "embedded", id: "e2", kind: "embedded")
        try journal.append(issued: expired)
        try journal.append(issued: live)
        // A lease of a broker that is not configured stays.
        let orphan = FakeBroker.lease(broker: "gone", id: "g1")
        try journal.append(issued: orphan)

        let store = EmbeddedSecretStore(stateDir: dir.path)
        var lines: [String] = []
        let result = try journal.replay(
            brokers: ["fake": fake, "embedded": EmbeddedBroker(store: store)], access: access
        ) { lines.append($0) }
        #expect(fake.revoked == ["lease-0", "lease-2", "lease-4"])
        #expect(result.revoked == 5)
        #expect(result.failed.map(\.id) == ["g1"])
        #expect(try journal.outstanding().map(\.id) == ["g1"])
        #expect(lines.count == 6)
        #expect(lines.contains { $0.contains("e1") && $0.contains("expired") })
        #expect(lines.contains { $0.contains("g1") && $0.contains("no broker named 'gone'") })
        #expect(try access.entries().filter { $0.event == .revoked }.count == 5)

        // Nothing left for the fake broker: a second replay revokes nothing more.
        let again = try journal.replay(brokers: ["fake": fake]) { _ in }
        #expect(again.revoked == 0 && again.failed.map(\.id) == ["g1"])
        #expect(fake.revoked.count == 3)
    }

    @Test func replayKeepsLeasesWhoseRevocationFails() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let journal = LeaseJournal(stateDir: dir.path)
        let fake = FakeBroker(name: "fake")
        fake.failing = ["bad"]
        try journal.append(issued: FakeBroker.lease(broker: "fake", id: "bad"))
        try journal.append(issued: FakeBroker.lease(broker: "fake", id: "good"))
        var lines: [String] = []
        let r = try journal.replay(brokers: ["fake": fake]) { lines.append($0) }
        #expect(r.revoked == 1)
        #expect(r.failed.map(\.id) == ["bad"])
        #expect(try journal.outstanding().map(\.id) == ["bad"])
        #expect(lines.contains { $0.contains("revoke failed: broker down for bad") })
        fake.failing = []
        #expect(try journal.replay(brokers: ["fake": fake]) { _ in }.revoked == 1)
        #expect(try journal.outstanding().isEmpty)
    }

    @Test func accessLogRecordsEventsWithoutValues() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let access = SecretAccessLog(stateDir: dir.path)
        let lease = FakeBroker.lease(broker: "fake", id: "l1", job: "job-7", secret: "db")
        try access.record(.issued, lease)
        try access.record(.revoked, lease)
        let entries = try access.entries()
        #expect(entries.map(\.event) == [.issued, .revoked])
        #expect(entries[0].job == "job-7" && entries[0].secret == "db" && entries[0].source == "vault:kv/x#db")
        #expect(entries[0].leaseID == "l1" && entries[0].revoked == nil && entries[1].revoked != nil)
        #expect(try permissions(access.path) == 0o600)
    }
}

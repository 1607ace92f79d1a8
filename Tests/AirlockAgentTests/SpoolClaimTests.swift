import AirlockAgent
import Foundation
import Logging
import Testing

@Suite("spool claiming and the in-flight journal")
struct SpoolClaimTests {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "spool-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func everyJobIsClaimedExactlyOnceByRacingAgents() async throws {
        let root = tempDir()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let spools = try (0..<4).map {
            try SpoolSource(root: root, agentName: "a\($0)", logger: Logger(label: "t"), pollWindow: 0.05)
        }
        for i in 0..<200 {
            try "name: j\(i)\nsteps: [{name: s, run: 'true'}]\n".write(
                toFile: "\(root)/incoming/j\(String(format: "%03d", i)).yaml", atomically: true, encoding: .utf8)
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { g in
            for s in spools {
                g.addTask {
                    var ids: [String] = []
                    while let j = try await s.next() { ids.append(j.id) }
                    return ids
                }
            }
            var all: [String] = []
            for try await ids in g { all += ids }
            return all
        }
        #expect(claimed.count == 200)
        #expect(Set(claimed).count == 200)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/incoming").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/claimed").count == 200)
    }

    @Test func journalKeepsRecordsUntilEnded() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try InFlightJournal(agentDirectory: dir)
        try j.begin(InFlightRecord(id: "42", source: "gitlab", fields: ["job": "42"]))
        try j.begin(InFlightRecord(id: "a/b", source: "spool", fields: [:]))
        #expect(Set(j.leftovers().map(\.id)) == ["42", "a/b"])
        var st = stat()
        #expect(stat(j.directory + "/42.json", &st) == 0 && st.st_mode & 0o777 == 0o600)
        j.end("42")
        #expect(j.leftovers().map(\.id) == ["a/b"])
    }
}

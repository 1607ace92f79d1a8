import AirlockAgent
import AirlockCore
import Foundation
import Testing

@Suite("agent config")
struct AgentConfigTests {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "agent-config-\(UUID().uuidString.prefix(8)).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func roundTripsWhatRegisterWrites() throws {
        let c = AgentConfig(
            name: "build-01", concurrency: 3, metrics: "127.0.0.1:9252",
            gitlab: .init(
                url: "https://gitlab.example.com", token: "glrt-abc\"def", systemID: "s_0123456789ab",
                images: ["debian:12": "default"]))
        let path = try write(c.yaml())
        defer { unlink(path) }
        #expect(try AgentConfig.load(path: path) == c)
    }

    @Test func unknownKeyIsNamedWithItsLine() throws {
        let path = try write("name: a\nconcurency: 4\n")
        defer { unlink(path) }
        let e = try #require(throws: AirlockError.self) { try AgentConfig.load(path: path) }
        #expect(e.description.contains("concurency"))
        #expect(e.description.contains(":2"))
        #expect(e.description.contains("concurrency"))  // the suggestion
    }

    @Test func missingTokenIsNamed() throws {
        let path = try write("gitlab:\n  url: https://gitlab.example.com\n")
        defer { unlink(path) }
        let e = try #require(throws: AirlockError.self) { try AgentConfig.load(path: path) }
        #expect(e.description.contains("gitlab.token"))
        #expect(e.description.contains("airlock register"))
    }

    @Test func rejectsBothSourcesAndBadValues() throws {
        for (text, needle) in [
            ("spool: /tmp/s\ngitlab: {url: 'https://x', token: t}\n", "both"),
            ("concurrency: 0\n", "concurrency"),
            ("metrics: localhost\n", "HOST:PORT"),
            ("gitlab: {url: 'ftp://x', token: t}\n", "https://"),
            ("name: ../x\n", "name"),
        ] {
            let path = try write(text)
            defer { unlink(path) }
            let e = try #require(throws: AirlockError.self) { try AgentConfig.load(path: path) }
            #expect(e.description.contains(needle), "\(text) → \(e)")
        }
    }

    @Test func hostPort() throws {
        #expect(try parseHostPort("127.0.0.1:80") == ("127.0.0.1", 80))
        #expect(try parseHostPort("[::1]:9") == ("::1", 9))
        #expect(throws: AirlockError.self) { try parseHostPort("nope") }
    }
}

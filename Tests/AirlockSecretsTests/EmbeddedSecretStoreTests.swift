import AirlockCore
import Foundation
import Testing

@testable import AirlockSecrets

@Suite struct EmbeddedSecretStoreTests {
    @Test func putGetListRemove() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        #expect(try store.list() == [])
        try store.put(name: "npm-token", value: SecretValue("npm_abcdef123456"))
        try store.put(name: "DEPLOY_KEY", value: SecretValue("-----BEGIN KEY-----\nxyz\n"))
        try store.put(name: "empty", value: SecretValue(""))
        #expect(try store.list() == ["DEPLOY_KEY", "empty", "npm-token"])
        #expect(try store.get(name: "npm-token").withBytes { $0 } == Array("npm_abcdef123456".utf8))
        #expect(try store.get(name: "empty").count == 0)
        // Replacing a value.
        try store.put(name: "npm-token", value: SecretValue("new-value"))
        #expect(try store.get(name: "npm-token").withBytes { $0 } == Array("new-value".utf8))
        try store.remove(name: "empty")
        #expect(try store.list() == ["DEPLOY_KEY", "npm-token"])
        // A second store object over the same directory reads the same key.
        #expect(
            try EmbeddedSecretStore(stateDir: dir.path).get(name: "DEPLOY_KEY").withBytes { $0 }
                == Array("-----BEGIN KEY-----\nxyz\n".utf8))
    }

    @Test func filesArePrivate() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        let old = umask(0)
        defer { umask(old) }
        try store.put(name: "a", value: SecretValue("value-a"))
        #expect(try permissions(store.directory) == 0o700)
        #expect(try permissions(store.directory + "/store.key") == 0o600)
        #expect(try permissions(store.directory + "/a.sealed") == 0o600)
        let key = try Data(contentsOf: URL(fileURLWithPath: store.directory + "/store.key"))
        #expect(key.count == 32)
    }

    @Test func noPlaintextOnDisk() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        let values = ["correct horse battery staple", "hunter2-hunter2", String(repeating: "A", count: 100)]
        for (i, v) in values.enumerated() { try store.put(name: "s\(i)", value: SecretValue(v)) }
        try store.put(name: "s1", value: SecretValue(values[1]))  // replaced: no leftover temp files
        let files = filesBelow(dir.path)
        #expect(
            files.sorted() == ["s0", "s1", "s2"].map { "\(store.directory)/\($0).sealed" } + [
                store.directory + "/store.key"
            ])
        for file in files {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
            for v in values {
                #expect(!contains(bytes, Array(v.utf8)), "\(v) in \(file)")
                // Not even a recognizable 8-byte piece of it.
                #expect(!contains(bytes, Array(v.utf8.prefix(8))), "prefix of \(v) in \(file)")
                #expect(!contains(bytes, Array(Data(v.utf8).base64EncodedString().utf8.prefix(12))))
            }
        }
    }

    @Test func swappedFilesFailAuthentication() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        try store.put(name: "prod", value: SecretValue("production-password"))
        try store.put(name: "test", value: SecretValue("test-password"))
        let fm = FileManager.default
        let prod = store.directory + "/prod.sealed", test = store.directory + "/test.sealed"
        try fm.moveItem(atPath: prod, toPath: prod + ".tmp")
        try fm.moveItem(atPath: test, toPath: prod)
        try fm.moveItem(atPath: prod + ".tmp", toPath: test)
        for name in ["prod", "test"] {
            let e = try #require(throws: AirlockError.self) { try store.get(name: name) }
            #expect(e.code == .secretTampered)
            #expect(e.message.contains("authentication failed"))
            #expect(e.message.contains("'\(name)'"))
            #expect(e.hint?.contains("airlock secrets put \(name)") == true)
        }
    }

    @Test func corruptedFileFailsAuthentication() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        try store.put(name: "a", value: SecretValue("some-value"))
        let path = store.directory + "/a.sealed"
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 20] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: AirlockError.self) { try store.get(name: "a") }
        try Data(bytes.prefix(10)).write(to: URL(fileURLWithPath: path))
        let e = try #require(throws: AirlockError.self) { try store.get(name: "a") }
        #expect(e.code == .secretTampered)
        // A different key (store re-created) also fails authentication.
        try store.put(name: "b", value: SecretValue("value-b"))
        try FileManager.default.removeItem(atPath: store.directory + "/store.key")
        try store.put(name: "c", value: SecretValue("value-c"))  // creates a new key
        #expect(try store.get(name: "c").count == 7)
        #expect((try #require(throws: AirlockError.self) { try store.get(name: "b") }).code == .secretTampered)
    }

    @Test func unknownNamesSuggestAndSayHowToAdd() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        var e = try #require(throws: AirlockError.self) { try store.get(name: "npm-token") }
        #expect(e.code == .secretUnknown)
        #expect(e.message.contains("the store is empty"))
        #expect(e.hint == "add it with 'airlock secrets put npm-token'")
        try store.put(name: "npm-token", value: SecretValue("x"))
        try store.put(name: "other", value: SecretValue("y"))
        e = try #require(throws: AirlockError.self) { try store.get(name: "npm-tokn") }
        #expect(e.message.hasSuffix("(did you mean 'npm-token'?)"))
        e = try #require(throws: AirlockError.self) { try store.get(name: "zzz") }
        #expect(e.message.hasSuffix("it holds: npm-token, other"))
        e = try #require(throws: AirlockError.self) { try store.remove(name: "zzz") }
        #expect(e.code == .secretUnknown)
    }

    @Test(arguments: ["../escape", "a/b", "", ".hidden", "store.key/x", "9"])
    func invalidNamesAreRefused(_ name: String) throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        let e = try #require(throws: AirlockError.self) { try store.put(name: name, value: SecretValue("v")) }
        #expect(e.code == .usage)
        #expect(throws: AirlockError.self) { try store.get(name: name) }
        #expect(filesBelow(dir.path).isEmpty)
    }

    @Test func keyProblemsAreNamed() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = EmbeddedSecretStore(stateDir: dir.path)
        try store.put(name: "a", value: SecretValue("value"))
        let key = store.directory + "/store.key"
        chmod(key, 0o644)
        var e = try #require(throws: AirlockError.self) { try store.get(name: "a") }
        #expect(e.code == .secretStore)
        #expect(e.message.contains("accessible by other users"))
        #expect(e.hint?.contains("chmod 600 \(key)") == true)
        chmod(key, 0o600)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: key))
        chmod(key, 0o600)
        e = try #require(throws: AirlockError.self) { try store.get(name: "a") }
        #expect(e.message.contains("damaged"))
        try FileManager.default.removeItem(atPath: key)
        e = try #require(throws: AirlockError.self) { try store.get(name: "a") }
        #expect(e.message.contains("does not exist"))
    }
}

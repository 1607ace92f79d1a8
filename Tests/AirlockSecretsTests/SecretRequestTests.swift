import AirlockCore
import Testing

@testable import AirlockSecrets

@Suite struct SecretRequestTests {
    @Test func buildsRequestsFromJobEntries() throws {
        let r1 = try SecretRequest(entry: .init(name: "t", source: "vault:secret/ci/deploy#token", ttl: 60))
        #expect(r1 == SecretRequest(name: "t", source: .vaultKV(path: "secret/ci/deploy", field: "token"), ttl: 60))
        let r2 = try SecretRequest(entry: .init(name: "T", source: "local:npm", delivery: .env))
        #expect(r2 == SecretRequest(name: "T", source: .local(name: "npm"), delivery: .env))
        let r3 = try SecretRequest(entry: .init(name: "d", source: "vault-dynamic:database/creds/ci"))
        #expect(r3.source == .vaultDynamic(path: "database/creds/ci", field: nil))
        let r4 = try SecretRequest(entry: .init(name: "d", source: "vault-dynamic:database/creds/ci#password"))
        #expect(r4.source == .vaultDynamic(path: "database/creds/ci", field: "password"))
    }

    @Test func sourceStringRoundTrips() throws {
        for text in ["local:a", "vault:secret/a/b#c", "vault-dynamic:db/creds/x", "vault-dynamic:db/creds/x#u"] {
            #expect(try SecretSource(parsing: text).sourceString == text)
        }
    }

    @Test func rejectsInvalidEntries() {
        #expect(throws: AirlockError.self) { try SecretRequest(entry: .init(name: "a", source: "vault:x")) }
        #expect(throws: AirlockError.self) { try SecretRequest(entry: .init(name: "1a", source: "local:x")) }
        #expect(throws: AirlockError.self) { try SecretRequest(entry: .init(name: "a", source: "s3:bucket/x")) }
    }
}

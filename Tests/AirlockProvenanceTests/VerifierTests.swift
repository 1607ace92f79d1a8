import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

@Suite("Provenance verification")
struct VerifierTests {
    static let builder = "https://airlock.example/builders/host-1"
    static let hello = (path: "out/hello", sha256: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")

    static func signed(_ key: SigningKey) throws -> DSSEEnvelope {
        try DSSE.sign(payload: ProvenanceBuilder.payload(TestSupport.record()), signer: key)
    }

    static func failure(_ result: VerificationResult) -> VerificationFailure? {
        if case let .failed(f) = result { return f }
        return nil
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func signThenVerify(_ algorithm: KeyAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        let envelope = try Self.signed(key)
        #expect(envelope.signatures[0].keyid == key.keyID)
        let result = ProvenanceVerifier.verify(
            envelopeText: envelope.jsonLine() + "\n", keys: [key.publicKey], builderID: Self.builder,
            artifacts: [Self.hello])
        guard case let .verified(statement, subjects) = result else {
            Issue.record("expected verified, got \(result)")
            return
        }
        #expect(
            subjects == [
                "dist/hello": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
                "dist/hello.1": "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
            ])
        // The independently parsed statement renders back to the exact signed payload.
        #expect(Array(statement.rendered().utf8) == envelope.payload)
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func tamperedPayloadByteFails(_ algorithm: KeyAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        var envelope = try Self.signed(key)
        // "dist/hello" -> "dist/hellp": still valid JSON, no longer what was signed.
        let index = try #require(
            String(decoding: envelope.payload, as: UTF8.self).utf8.indices(of: "dist/hello\"")
        )
        envelope.payload[index + 9] = UInt8(ascii: "p")
        let result = ProvenanceVerifier.verify(
            envelopeText: envelope.jsonLine(), keys: [key.publicKey], builderID: nil, artifacts: [])
        #expect(Self.failure(result) == .badSignature(keyid: key.keyID))
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func flippedSignatureBitFails(_ algorithm: KeyAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        var envelope = try Self.signed(key)
        envelope.signatures[0].sig[envelope.signatures[0].sig.count - 1] ^= 0x01
        let result = ProvenanceVerifier.verify(
            envelopeText: envelope.jsonLine(), keys: [key.publicKey], builderID: nil, artifacts: [])
        #expect(Self.failure(result) == .badSignature(keyid: key.keyID))
    }

    @Test func artifactThatIsNotASubjectFails() throws {
        let key = SigningKey.generate(.ed25519)
        let other = String(repeating: "ab", count: 32)
        let result = ProvenanceVerifier.verify(
            envelopeText: try Self.signed(key).jsonLine(), keys: [key.publicKey], builderID: nil,
            artifacts: [Self.hello, (path: "out/evil", sha256: other.uppercased())])
        let failure = Self.failure(result)
        #expect(failure == .digestMismatch(path: "out/evil", sha256: other))
        #expect(failure?.description.hasPrefix("out/evil (sha256 abab") == true)
    }

    @Test func wrongKeyFails() throws {
        let key = SigningKey.generate(.ecdsaP256)
        let stranger = SigningKey.generate(.ecdsaP256)
        let result = ProvenanceVerifier.verify(
            envelopeText: try Self.signed(key).jsonLine(), keys: [stranger.publicKey], builderID: nil, artifacts: [])
        #expect(Self.failure(result) == .unknownKey(keyids: [key.keyID]))
        // No keys at all is the same failure.
        let none = ProvenanceVerifier.verify(
            envelopeText: try Self.signed(key).jsonLine(), keys: [], builderID: nil, artifacts: [])
        #expect(Self.failure(none) == .unknownKey(keyids: [key.keyID]))
    }

    /// The keyid is only a hint: a signature with a foreign keyid still verifies with the right key.
    @Test func keyidIsOnlyAHint() throws {
        let key = SigningKey.generate(.ed25519)
        var envelope = try Self.signed(key)
        envelope.signatures[0].keyid = ""
        let result = ProvenanceVerifier.verify(
            envelopeText: envelope.jsonLine(), keys: [SigningKey.generate(.ed25519).publicKey, key.publicKey],
            builderID: nil, artifacts: [])
        #expect(result.isVerified)
    }

    @Test func wrongBuilderFails() throws {
        let key = SigningKey.generate(.ed25519)
        let result = ProvenanceVerifier.verify(
            envelopeText: try Self.signed(key).jsonLine(), keys: [key.publicKey],
            builderID: "https://airlock.example/builders/ci", artifacts: [])
        #expect(
            Self.failure(result)
                == .wrongBuilder(expected: "https://airlock.example/builders/ci", found: Self.builder))
    }

    @Test func wrongPayloadAndStatementTypesFail() throws {
        let key = SigningKey.generate(.ed25519)
        let payload = ProvenanceBuilder.payload(TestSupport.record())
        let json = try DSSE.sign(payload: payload, payloadType: "application/json", signer: key)
        #expect(
            Self.failure(
                ProvenanceVerifier.verify(
                    envelopeText: json.jsonLine(), keys: [key.publicKey], builderID: nil, artifacts: []))
                == .wrongPayloadType("application/json"))

        let v01 = try DSSE.sign(payload: Array(#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.utf8), signer: key)
        #expect(
            Self.failure(
                ProvenanceVerifier.verify(
                    envelopeText: v01.jsonLine(), keys: [key.publicKey], builderID: nil, artifacts: []))
                == .wrongStatementType("https://in-toto.io/Statement/v0.1"))

        let vsa = try DSSE.sign(
            payload: Array(
                #"{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/verification_summary/v1","subject":[]}"#
                    .utf8),
            signer: key)
        #expect(
            Self.failure(
                ProvenanceVerifier.verify(
                    envelopeText: vsa.jsonLine(), keys: [key.publicKey], builderID: nil, artifacts: []))
                == .wrongPredicateType("https://slsa.dev/verification_summary/v1"))
    }

    @Test func notJSONAndNotDSSE() {
        let key = SigningKey.generate(.ed25519).publicKey
        #expect(
            Self.failure(ProvenanceVerifier.verify(envelopeText: "garbage", keys: [key], builderID: nil, artifacts: []))
                == .notJSON)
        #expect(
            Self.failure(
                ProvenanceVerifier.verify(
                    envelopeText: #"{"payload":"e30="}"#, keys: [key], builderID: nil, artifacts: []))
                == .notDSSE("missing payloadType, signatures"))
        #expect(
            Self.failure(ProvenanceVerifier.verify(envelopeText: "\n\n", keys: [key], builderID: nil, artifacts: []))
                == .notDSSE("the input is empty"))
    }

    /// A multi-line .intoto.jsonl passes if any line passes; otherwise the most specific failure wins.
    @Test func multipleLines() throws {
        let key = SigningKey.generate(.ed25519)
        let other = SigningKey.generate(.ecdsaP256)
        let good = try Self.signed(key).jsonLine()
        let foreign = try Self.signed(other).jsonLine()
        var tampered = try Self.signed(key)
        tampered.signatures[0].sig[0] ^= 0x80
        let text = ["not json", foreign, tampered.jsonLine(), good].joined(separator: "\n") + "\n"
        #expect(
            ProvenanceVerifier.verify(envelopeText: text, keys: [key.publicKey], builderID: nil, artifacts: [])
                .isVerified)

        let failing = ["not json", foreign, tampered.jsonLine()].joined(separator: "\n")
        #expect(
            Self.failure(
                ProvenanceVerifier.verify(envelopeText: failing, keys: [key.publicKey], builderID: nil, artifacts: []))
                == .badSignature(keyid: key.keyID))

        // A pretty-printed single envelope also reads.
        let pretty = try #require(
            String(
                data: try JSONSerialization.data(
                    withJSONObject: try JSONSerialization.jsonObject(with: Data(good.utf8)), options: [.prettyPrinted]),
                encoding: .utf8))
        #expect(pretty.contains("\n"))
        #expect(
            ProvenanceVerifier.verify(envelopeText: pretty, keys: [key.publicKey], builderID: nil, artifacts: [])
                .isVerified)
    }

    @Test func failureDescriptionsAreOneLine() {
        let all: [VerificationFailure] = [
            .notJSON, .notDSSE("missing payload"), .wrongPayloadType("x"), .unknownKey(keyids: ["k"]),
            .unknownKey(keyids: []), .badSignature(keyid: "k"), .wrongStatementType(""), .wrongPredicateType("p"),
            .wrongBuilder(expected: "a", found: "b"), .digestMismatch(path: "p", sha256: "s"),
        ]
        for f in all {
            #expect(!f.description.isEmpty && !f.description.contains("\n"))
        }
    }
}

extension String.UTF8View {
    /// Offset of the first occurrence of `needle`, or nil.
    func indices(of needle: String) -> Int? {
        let hay = Array(self)
        let n = Array(needle.utf8)
        guard n.count <= hay.count else { return nil }
        for i in 0...(hay.count - n.count) where hay[i..<(i + n.count)].elementsEqual(n) { return i }
        return nil
    }
}

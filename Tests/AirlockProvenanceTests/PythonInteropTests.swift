import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

/// Airlock's envelopes verified by an independent DSSE implementation (securesystemslib).
@Suite("securesystemslib interop")
struct PythonInteropTests {
    static let hasSecuresystemslib = TestSupport.commandSucceeds([
        TestSupport.pythonTool("python3"), "-c", "import securesystemslib.dsse, securesystemslib.signer, cryptography",
    ])

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("verify_dsse.py").path

    func check(_ envelopeLines: [String], key: PublicKey) throws -> (status: Int32, output: String) {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let provenance = dir.appendingPathComponent("hello.intoto.jsonl")
        let pub = dir.appendingPathComponent("signing.pub")
        try Data((envelopeLines.joined(separator: "\n") + "\n").utf8).write(to: provenance)
        try Data(key.pemRepresentation.utf8).write(to: pub)
        return try #require(
            TestSupport.run([TestSupport.pythonTool("python3"), Self.script, provenance.path, pub.path]))
    }

    @Test(
        .enabled(if: hasSecuresystemslib, "needs python3 with securesystemslib[crypto]"),
        arguments: KeyAlgorithm.allCases)
    func securesystemslibVerifiesOurEnvelopes(_ algorithm: KeyAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        let envelope = try DSSE.sign(payload: ProvenanceBuilder.payload(TestSupport.record()), signer: key)
        let ok = try check([envelope.jsonLine()], key: key.publicKey)
        #expect(ok.status == 0, "\(ok.output)")
        #expect(ok.output.contains("OK: line 1 verified with key \(key.keyID)"))

        var tampered = envelope
        tampered.payload[tampered.payload.count - 3] ^= 0x01
        let bad = try check([tampered.jsonLine()], key: key.publicKey)
        #expect(bad.status == 1, "\(bad.output)")
        #expect(bad.output.contains("FAILED"))

        let wrongKey = try check([envelope.jsonLine()], key: SigningKey.generate(algorithm).publicKey)
        #expect(wrongKey.status == 1, "\(wrongKey.output)")

        // Second line verifies.
        let multi = try check([tampered.jsonLine(), envelope.jsonLine()], key: key.publicKey)
        #expect(multi.status == 0, "\(multi.output)")
    }
}

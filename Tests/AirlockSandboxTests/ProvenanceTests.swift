import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    static let pytools = Host.repoRoot + "/.build/pytools/bin"
    static var havePytools: Bool { FileManager.default.isExecutableFile(atPath: pytools + "/pyspdxtools") }

    /// Runs hello-c in `s` and returns the out dir and the public key path.
    func signedHello(_ s: TestState, keyType: String = "ed25519") throws -> (out: String, pub: String) {
        let out = s.dir + "/out"
        let r = try Run.capture(
            [
                Host.airlock, "run", "Examples/hello-c/job.yaml", "--out", out, "--quiet",
                "--key-type", keyType, "--builder-id", "urn:airlock:runner:test",
            ],
            env: s.env, cwd: Host.repoRoot)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("generated a signing key at \(s.dir)/keys/signing.key"), "\(r.stderr)")
        let pub = s.dir + "/pub.pem"
        let key = try Run.capture([Host.airlock, "keys", "public"], env: s.env)
        try key.stdout.write(toFile: pub, atomically: true, encoding: .utf8)
        return (out, pub)
    }

    func verify(_ s: TestState, _ args: [String]) throws -> RunResult {
        try Run.capture([Host.airlock, "verify"] + args, env: s.env)
    }

    @Test(
        "airlock run signs provenance (both key types); airlock verify checks it and each failure says why",
        arguments: ["ed25519", "ecdsa-p256"])
    func signAndVerify(_ keyType: String) throws {
        let s = TestState()
        let (out, pub) = try signedHello(s, keyType: keyType)
        let prov = out + "/hello-c.intoto.jsonl"
        // The private key stays in the state directory, 0600, never in the out dir.
        let mode =
            (try FileManager.default.attributesOfItem(atPath: s.dir + "/keys/signing.key")[.posixPermissions]
            as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: out)).contains { $0.hasSuffix(".key") })

        let ok = try verify(
            s, ["--provenance", prov, "--key", pub, "--builder-id", "urn:airlock:runner:test", out + "/hello"])
        #expect(ok.status == 0, "\(ok.stderr)")

        // Wrong builder.
        let builder = try verify(
            s, ["--provenance", prov, "--key", pub, "--builder-id", "urn:someone-else", out + "/hello"])
        #expect(builder.status == 1 && builder.stderr.contains("expected \"urn:someone-else\""), "\(builder.stderr)")
        // One artifact byte changed.
        let tampered = s.dir + "/hello-tampered"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out + "/hello")))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: tampered))
        let digest = try verify(s, ["--provenance", prov, "--key", pub, tampered])
        #expect(digest.status == 1 && digest.stderr.contains("hello-tampered"), "\(digest.stderr)")
        // A key that did not sign it.
        let other = TestState()
        _ = try Run.capture([Host.airlock, "keys", "generate"], env: other.env)
        let wrong = try verify(s, ["--provenance", prov, "--key", other.dir + "/keys/signing.pub", out + "/hello"])
        #expect(wrong.status == 1 && wrong.stderr.contains("unknown key"), "\(wrong.stderr)")
        // One payload byte changed (re-encoded, so the envelope is still valid JSON and DSSE).
        let line = try String(contentsOfFile: prov, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var env = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        var payload = Data(base64Encoded: env["payload"] as! String)!
        payload[payload.count / 3] ^= 0x20
        env["payload"] = payload.base64EncodedString()
        let forged = s.dir + "/forged.intoto.jsonl"
        try JSONSerialization.data(withJSONObject: env).write(to: URL(fileURLWithPath: forged))
        let bad = try verify(s, ["--provenance", forged, "--key", pub])
        #expect(bad.status == 1 && bad.stderr.contains("signature"), "\(bad.stderr)")
        // Not JSON at all.
        try "not json\n".write(toFile: s.dir + "/junk", atomically: true, encoding: .utf8)
        let junk = try verify(s, ["--provenance", s.dir + "/junk", "--key", pub])
        #expect(junk.status == 1 && junk.stderr.contains("JSON"), "\(junk.stderr)")
        Leftovers.expectNone(s)
    }

    @Test("verify: missing key, missing artifact and unreadable provenance are usage errors (exit 2)")
    func verifyBadInput() throws {
        let s = TestState()
        let (out, pub) = try signedHello(s)
        let prov = out + "/hello-c.intoto.jsonl"
        let noKey = try verify(s, ["--provenance", prov, "--key", s.dir + "/nope.pem"])
        #expect(noKey.status == 2 && noKey.stderr.contains("airlock keys generate"), "\(noKey.stderr)")
        let noArtifact = try verify(s, ["--provenance", prov, "--key", pub, s.dir + "/missing"])
        #expect(noArtifact.status == 2 && noArtifact.stderr.contains("missing"), "\(noArtifact.stderr)")
        let privateAsPublic = try verify(s, ["--provenance", prov, "--key", s.dir + "/keys/signing.key"])
        #expect(privateAsPublic.status == 2, "\(privateAsPublic.stderr)")
        let noProv = try verify(s, ["--provenance", s.dir + "/none.jsonl", "--key", pub])
        #expect(noProv.status == 2)
    }

    @Test(
        "an independent verifier agrees: securesystemslib verifies the envelope, pyspdxtools the SBOM",
        arguments: ["ed25519", "ecdsa-p256"])
    func pythonInterop(_ keyType: String) throws {
        try #require(Self.havePytools, "run scripts/install-python-tools.sh (make test does)")
        let s = TestState()
        let (out, pub) = try signedHello(s, keyType: keyType)
        let dsse = try Run.capture([
            Self.pytools + "/python3", Host.repoRoot + "/Tests/AirlockProvenanceTests/verify_dsse.py",
            out + "/hello-c.intoto.jsonl", pub,
        ])
        #expect(dsse.status == 0, "\(dsse.stdout) \(dsse.stderr)")
        // Control: the same checker rejects the envelope under a different key.
        let other = TestState()
        _ = try Run.capture([Host.airlock, "keys", "generate", "--type", keyType], env: other.env)
        let control = try Run.capture([
            Self.pytools + "/python3", Host.repoRoot + "/Tests/AirlockProvenanceTests/verify_dsse.py",
            out + "/hello-c.intoto.jsonl", other.dir + "/keys/signing.pub",
        ])
        #expect(control.status == 1, "the checker must reject a wrong key: \(control.stdout) \(control.stderr)")
        let spdx = try Run.capture([Self.pytools + "/pyspdxtools", "-i", out + "/hello-c.spdx.json"])
        #expect(spdx.status == 0, "\(spdx.stdout) \(spdx.stderr)")
        // Control: pyspdxtools rejects a document with a required field removed.
        var doc =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/hello-c.spdx.json")))
            as! [String: Any]
        doc.removeValue(forKey: "dataLicense")
        try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: s.dir + "/broken.spdx.json"))
        let broken = try Run.capture([Self.pytools + "/pyspdxtools", "-i", s.dir + "/broken.spdx.json"])
        #expect(broken.status != 0, "pyspdxtools accepted a broken document: \(broken.stdout)")
    }

    @Test("the SBOM lists the outputs with SHA-1 and SHA-256 and the toolchain's packages")
    func sbomContents() throws {
        let s = TestState()
        let (out, _) = try signedHello(s)
        let doc =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/hello-c.spdx.json")))
            as! [String: Any]
        let files = doc["files"] as? [[String: Any]] ?? []
        #expect(files.map { $0["fileName"] as? String } == ["./hello"])
        let algs = (files.first?["checksums"] as? [[String: Any]] ?? []).compactMap { $0["algorithm"] as? String }
        #expect(Set(algs) == ["SHA1", "SHA256"])
        let packages = (doc["packages"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(packages.contains("libc6"), "\(packages)")
    }
}

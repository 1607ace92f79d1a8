import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

@Suite("in-toto statement and SLSA predicate")
struct StatementTests {
    /// The canonical payload for `TestSupport.record()`. Line breaks here are not part of the
    /// string (each line ends with a backslash): the payload is one compact line.
    static let golden = """
        {"_type":"https://in-toto.io/Statement/v1","predicate":{"buildDefinition":{"buildType":\
        "urn:airlock:buildtype:job:v1","externalParameters":{"job":{"name":"hello","run":"make dist",\
        "secrets":["NPM_TOKEN"],"timeout":"10m"},"source":{"commit":"8A9F1C2D3E4B5A69788796A5B4C3D2E1F0011223",\
        "ref":"refs/heads/main","repository":"https://github.com/acme/hello"}},"internalParameters":{"limits":\
        {"memory":2147483648,"pids":512},"profile":{"digest":{"sha256":\
        "1111111111111111111111111111111111111111111111111111111111111111"},"name":"default"},"runnerVersion":\
        "0.3.0","seccompDigest":{"sha256":"2222222222222222222222222222222222222222222222222222222222222222"},\
        "secretNames":["NPM_TOKEN"]},"resolvedDependencies":[{"digest":{"gitCommit":\
        "8a9f1c2d3e4b5a69788796a5b4c3d2e1f0011223"},"uri":"git+https://github.com/acme/hello@refs/heads/main"},\
        {"digest":{"sha256":"3333333333333333333333333333333333333333333333333333333333333333"},"name":\
        "config.json"},{"digest":{"sha256":"4444444444444444444444444444444444444444444444444444444444444444"},\
        "name":"vendor.tar"},{"digest":{"sha256":"6666666666666666666666666666666666666666666666666666666666666666"},\
        "name":"bare"},{"annotations":{"packages":[{"name":"gcc-12","version":"12.2.0-14"},{"name":"make",\
        "version":"4.3-4.1"}],"version":"debian-12"},"digest":{"sha256":\
        "5555555555555555555555555555555555555555555555555555555555555555"},"name":"rootfs","uri":"file:///usr"}]},\
        "runDetails":{"builder":{"id":"https://airlock.example/builders/host-1","version":{"airlock":"0.3.0"}},\
        "byproducts":[{"annotations":{"exitCode":0,"resourceUsage":{"cpuSeconds":1.5,"peakMemoryBytes":52428800}},\
        "digest":{"sha256":"7777777777777777777777777777777777777777777777777777777777777777"},"name":"job.log"},\
        {"digest":{"sha256":"8888888888888888888888888888888888888888888888888888888888888888"},"mediaType":\
        "application/spdx+json","name":"sbom.spdx.json"}],"metadata":{"finishedOn":"2024-05-01T12:03:20Z",\
        "invocationId":"0e7c2a9c-4a4f-4bbf-9d3c-6c1a1d6f2b10","startedOn":"2024-05-01T12:00:00Z"}}},\
        "predicateType":"https://slsa.dev/provenance/v1","subject":[{"digest":{"sha256":\
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"},"name":"dist/hello"},{"digest":\
        {"sha256":"a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447"},"name":"dist/hello.1"}]}
        """

    @Test func goldenStatement() {
        let payload = ProvenanceBuilder.payload(TestSupport.record())
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text == Self.golden)
        #expect(payload == Array(Self.golden.utf8))
        // Deterministic: the same record gives the same bytes, whatever the input order.
        var shuffled = TestSupport.record()
        shuffled.outputs.reverse()
        shuffled.inputs.reverse()
        shuffled.toolchain.reverse()
        #expect(ProvenanceBuilder.payload(shuffled) == payload)
    }

    /// Foundation parses what we write, and agrees on the structure.
    @Test func payloadParsesWithJSONSerialization() throws {
        let payload = ProvenanceBuilder.payload(TestSupport.record())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        #expect(object["_type"] as? String == "https://in-toto.io/Statement/v1")
        let predicate = try #require(object["predicate"] as? [String: Any])
        let definition = try #require(predicate["buildDefinition"] as? [String: Any])
        #expect(definition["buildType"] as? String == ProvenanceBuilder.buildType)
    }

    @Test func secretsAppearByNameOnly() {
        var record = TestSupport.record()
        record.secretNames = ["DEPLOY_KEY", "NPM_TOKEN", "NPM_TOKEN"]
        let secretValue = "s3cr3t-npm-token-value"  // what the secret store would hold
        let text = String(decoding: ProvenanceBuilder.payload(record), as: UTF8.self)
        #expect(text.contains(#""secretNames":["DEPLOY_KEY","NPM_TOKEN"]"#))
        #expect(!text.contains(secretValue))
        #expect(text.components(separatedBy: "DEPLOY_KEY").count == 2)  // exactly one mention
    }

    @Test func emptyOptionalFieldsAreOmittedNotNull() {
        var record = TestSupport.record(outputs: [])
        record.source = nil
        record.inputs = []
        record.toolchain = []
        record.sbom = nil
        record.secretNames = []
        let text = String(decoding: ProvenanceBuilder.payload(record), as: UTF8.self)
        #expect(!text.contains("null"))
        #expect(!text.contains("resolvedDependencies"))
        #expect(!text.contains("\"source\""))
        #expect(!text.contains("secretNames"))
        #expect(!text.contains("spdx"))
        #expect(text.contains(#""subject":[]"#))
    }

    @Test func sourceWithoutCommitIsNotADependency() {
        var record = TestSupport.record()
        record.source = .init(repository: "git+ssh://git.example/x.git", ref: nil, commit: nil)
        let text = String(decoding: ProvenanceBuilder.payload(record), as: UTF8.self)
        #expect(!text.contains("gitCommit"))
        #expect(text.contains(#""source":{"repository":"git+ssh://git.example/x.git"}"#))
        record.source?.commit = "abc"
        let with = String(decoding: ProvenanceBuilder.payload(record), as: UTF8.self)
        #expect(with.contains(#""uri":"git+ssh://git.example/x.git""#))
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (951_782_400.999, "2000-02-29T00:00:00Z"),
        (1_714_564_800.75, "2024-05-01T12:00:00Z"),
        (-1.5, "1969-12-31T23:59:58Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ])
    func rfc3339(_ seconds: Double, _ expected: String) {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: seconds)) == expected)
    }
}

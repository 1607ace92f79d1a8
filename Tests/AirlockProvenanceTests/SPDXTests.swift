import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

@Suite("SPDX 2.3")
struct SPDXTests {
    static let files = [
        FileDigest(
            name: "dist/hello world.tar.gz", sha256: String(repeating: "a", count: 64),
            sha1: String(repeating: "b", count: 40), size: 10),
        FileDigest(
            name: "dist/hello_world.tar.gz", sha256: String(repeating: "c", count: 64),
            sha1: String(repeating: "d", count: 40), size: 20),
        FileDigest(
            name: "./bin/hello", sha256: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
            sha1: "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed", size: 11),
    ]

    static func document() -> JSONValue {
        SPDXBuilder.document(
            name: "hello", namespace: "https://airlock.example/spdx/0e7c2a9c-4a4f-4bbf-9d3c-6c1a1d6f2b10",
            created: Date(timeIntervalSince1970: 1_714_565_000), files: files,
            packages: [("make", "4.3-4.1"), ("gcc-12", "12.2.0-14"), ("libc6", "")], creatorTool: "airlock-0.3.0")
    }

    @Test func documentShape() throws {
        let doc = Self.document()
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(doc.rendered().utf8)) as? [String: Any])
        #expect(object["spdxVersion"] as? String == "SPDX-2.3")
        #expect(object["dataLicense"] as? String == "CC0-1.0")
        #expect(object["SPDXID"] as? String == "SPDXRef-DOCUMENT")
        let creation = try #require(object["creationInfo"] as? [String: Any])
        #expect(creation["created"] as? String == "2024-05-01T12:03:20Z")
        #expect(creation["creators"] as? [String] == ["Tool: airlock-0.3.0"])

        let files = try #require(object["files"] as? [[String: Any]])
        #expect(
            files.map { $0["fileName"] as? String } == [
                "./bin/hello", "./dist/hello world.tar.gz", "./dist/hello_world.tar.gz",
            ])
        let ids = files.compactMap { $0["SPDXID"] as? String }
        #expect(
            ids == [
                "SPDXRef-File-.-bin-hello", "SPDXRef-File-dist-hello-world.tar.gz",
                "SPDXRef-File-dist-hello-world.tar.gz-2",
            ])
        for id in ids {
            #expect(id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
        }
        let checksums = try #require(files[0]["checksums"] as? [[String: String]])
        #expect(checksums.map { $0["algorithm"] } == ["SHA1", "SHA256"])

        let packages = try #require(object["packages"] as? [[String: Any]])
        #expect(
            packages.map { $0["SPDXID"] as? String } == [
                "SPDXRef-Package-gcc-12-12.2.0-14", "SPDXRef-Package-libc6", "SPDXRef-Package-make-4.3-4.1",
            ])
        #expect(packages[0]["filesAnalyzed"] as? Bool == false)
        #expect(packages[1]["versionInfo"] == nil)

        let relationships = try #require(object["relationships"] as? [[String: String]])
        #expect(relationships.count == 6)
        #expect(
            relationships.allSatisfy {
                $0["relationshipType"] == "DESCRIBES" && $0["spdxElementId"] == "SPDXRef-DOCUMENT"
            })
    }

    /// The tool must actually run for this user (a venv made by root may point at a Python
    /// under /root that another uid cannot execute).
    static let hasPyspdxtools = TestSupport.commandSucceeds([TestSupport.pythonTool("pyspdxtools"), "--help"])

    @Test(.enabled(if: hasPyspdxtools, "needs pyspdxtools (pip install spdx-tools) on PATH"))
    func pyspdxtoolsAcceptsTheDocument() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sbom.spdx.json").path
        try Data(Self.document().rendered(pretty: true).utf8).write(to: URL(fileURLWithPath: path))
        let result = try #require(TestSupport.run([TestSupport.pythonTool("pyspdxtools"), "-i", path]))
        #expect(result.status == 0, "pyspdxtools rejected the document:\n\(result.output)")
        #expect(!result.output.lowercased().contains("error"), "\(result.output)")
    }
}

import Foundation
import Testing

@testable import AirlockCore

/// Hostile YAML and JSON is refused before libyaml builds it, with the file, line, column and
/// the limit in the message; ordinary files still parse. A bomb that got through would hang or
/// crash this process: that is the failure signal, so there are no timing assertions.
@Suite struct YAMLLimitsTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The classic "billion laughs", nine levels of nine aliases each (9^9 strings).
    static let aliasBomb: String = {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = Array("abcdefghi")
        for k in 1..<names.count {
            let item = "*\(names[k - 1])"
            text += "\(names[k]): &\(names[k]) [\(Array(repeating: item, count: 9).joined(separator: ","))]\n"
        }
        return text
    }()

    func refusal(_ text: String, file: String) throws -> AirlockError {
        try #require(throws: AirlockError.self) { try YAMLReader.parse(text, file: file) }
    }

    @Test func fiveThousandNestedBracketsAreRefusedAtTheLevelBeyondTheLimit() throws {
        let e = try refusal(String(repeating: "[", count: 5000), file: "job.yaml")
        #expect(e.code == .invalidFile)
        #expect(e.message.hasPrefix("job.yaml:1:65: nesting deeper than 64 levels"))
        #expect(e.hint != nil)
        let braces = try refusal("steps: " + String(repeating: "{a: ", count: 5000), file: "p.yaml")
        #expect(braces.message.hasPrefix("p.yaml:1:"))
        #expect(braces.message.contains("nesting deeper than 64 levels"))
    }

    @Test func deeplyNestedBlockMappingsAndListsAreRefused() throws {
        var text = ""
        for level in 0..<200 { text += String(repeating: "  ", count: level) + "a:\n" }
        let e = try refusal(text, file: "deep.yaml")
        #expect(e.message.hasPrefix("deep.yaml:65:129: nesting deeper than 64 levels"))
        let dashes = try refusal(String(repeating: "- ", count: 5000) + "x\n", file: "dash.yaml")
        #expect(dashes.message.hasPrefix("dash.yaml:1:129: nesting deeper than 64 levels"))
    }

    @Test func aliasBombIsRefusedAtTheAliasThatCrossesTheNodeLimit() throws {
        #expect(Self.aliasBomb.utf8.count <= 448)
        let e = try refusal(Self.aliasBomb, file: "bomb.yaml")
        #expect(e.code == .invalidFile)
        #expect(e.message.range(of: #"^bomb\.yaml:6:\d+: alias '\*e' expands"#, options: .regularExpression) != nil)
        #expect(e.message.contains("100000 nodes"))
    }

    @Test func aliasBombHiddenInBlockCollectionsIsRefused() throws {
        var text = "a: &a\n  - x\n  - y\n  - z\n"
        for (prev, name) in zip("abcdefgh", "bcdefghi") {
            text += "\(name): &\(name)\n" + String(repeating: "  - *\(prev)\n", count: 9)
        }
        let e = try refusal(text, file: "block.yaml")
        #expect(e.message.contains("block.yaml:"))
        #expect(e.message.contains("expands the document beyond 100000 nodes"))
    }

    @Test func documentsOverTheSizeLimitAreRefused() throws {
        let line = "# a comment line that is long enough\n"
        let text = String(repeating: line, count: (4 << 20) / line.utf8.count + 1)
        let e = try refusal(text, file: "big.yaml")
        #expect(
            e.message.range(
                of: #"^big\.yaml:\d+:\d+: the document is larger than the size limit of 4MiB"#,
                options: .regularExpression) != nil)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-big-\(UUID()).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8)))
        let read = try #require(throws: AirlockError.self) { try YAMLReader.load(path: path, displayName: "big.yaml") }
        #expect(read.message.contains("larger than the size limit"))
        // An endless file is read no further than the limit.
        let zero = try #require(throws: AirlockError.self) { try YAMLReader.readFile("/dev/zero") }
        #expect(zero.message.hasPrefix("/dev/zero:1:4194305: the document is larger"))
    }

    @Test func theComposedTreeIsCountedToo() throws {
        let root = try YAMLReader.parse("a: &a [1, 2, 3]\nb: [*a, *a, *a]\n", file: "c.yaml")
        let tight = StructureLimits(maxBytes: 1 << 20, maxDepth: 64, maxNodes: 10, subject: "tests")
        let e = try #require(throws: AirlockError.self) { try root.checkNodeCount(tight) }
        #expect(e.message.contains("c.yaml:"))
        #expect(e.message.contains("more than 10 nodes"))
        try root.checkNodeCount(.files)
    }

    @Test func bracketsInsideScalarsAndCommentsAreNotStructure() throws {
        let many = String(repeating: "[", count: 5000)
        let texts = [
            "run: |\n  \(many)\n  echo \"it's\n",
            "run: \"\(many)\"\n",
            "run: '\(many)'' and ''\(many)'\n",
            "# \(many)\nrun: x\n",
            "run: a#b \(many)\n",
            "run: first\n  \(many)\n",
            "run: >-\n\n    \(many)\n\n    x\nnext: 1\n",
            "? \"\(many)\"\n: x\n",
        ]
        for text in texts { _ = try YAMLReader.parse(text, file: "ok.yaml") }
    }

    @Test func structureAfterWhatOnlyLooksLikeAStringIsCounted() throws {
        let deep = String(repeating: "[", count: 5000)
        let texts = [
            "a: b\"c\nd: \(deep)",  // a quote inside a plain scalar opens nothing
            "a: 'it''s'\nd: \(deep)",
            "a: |\n  text \"\nd: \(deep)",  // the block scalar ends where indentation drops
            "a: \"x\\\"\"\nd: \(deep)",
            "a: first\n  line\nd: \(deep)",
            "{\t\"a\":\t\(deep)",
            "a: !<tag,]]]> \(deep)",
        ]
        for text in texts {
            let e = try refusal(text, file: "h.yaml")
            #expect(e.message.contains("nesting deeper than 64 levels"), "\(text.prefix(30))")
        }
    }

    @Test func shippedExamplesProfilesAndCasesStillParse() throws {
        let fm = FileManager.default
        var files: [String] = []
        for example in try fm.contentsOfDirectory(atPath: Self.root + "/Examples") {
            let job = "\(Self.root)/Examples/\(example)/job.yaml"
            if fm.fileExists(atPath: job) { files.append(job) }
        }
        for dir in ["Profiles", "Profiles/cases"] {
            for name in try fm.contentsOfDirectory(atPath: "\(Self.root)/\(dir)") where name.hasSuffix(".yaml") {
                files.append("\(Self.root)/\(dir)/\(name)")
            }
        }
        for name in ["docker-default.json", "containers-seccomp.json"] {
            let path = "\(Self.root)/.build/reference-profiles/\(name)"
            if fm.fileExists(atPath: path) { files.append(path) }
        }
        #expect(files.count >= 10)
        for file in files { _ = try YAMLReader.load(path: file) }
    }

    @Test func ordinaryAnchorsAndAliasesStillWork() throws {
        let text = "base: &base {image: x, cpus: 2}\njobs:\n  - <<: *base\n  - *base\nlist: &l\n- a\n- b\nagain: *l\n"
        let root = try YAMLReader.parse(text, file: "a.yaml")
        #expect(try root.mapping()["again"]!.sequence().count == 2)
    }

    @Test func jsonPayloadsAreCheckedBeforeDecoding() throws {
        let deep = Array(("{\"id\": 7, \"token\": \"t\\\"k\", \"x\": " + String(repeating: "[", count: 5000)).utf8)
        let e = try #require(throws: AirlockError.self) {
            try JSONStructureScan.check(deep, name: "job payload", limits: .payloads)
        }
        #expect(e.message.hasPrefix("job payload:1:96: nesting deeper than 64 levels"))
        let fields = JSONStructureScan.topLevelValues(deep, names: ["id", "token"])
        #expect(fields["id"].map { String(decoding: $0, as: UTF8.self) } == "7")
        #expect(fields["token"].map { String(decoding: $0, as: UTF8.self) } == "\"t\\\"k\"")
        try JSONStructureScan.check(Array("{\"a\": [1, {\"b\": \"]]]]\"}]}".utf8), name: "ok", limits: .payloads)
    }
}

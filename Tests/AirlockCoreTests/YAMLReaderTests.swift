import Testing

@testable import AirlockCore

@Suite struct YAMLReaderTests {
    @Test func malformedYAMLNamesFileLineAndColumn() throws {
        let e = try #require(throws: AirlockError.self) {
            try YAMLReader.parse("name: a\nsteps:\n  - name: x\n   run: [unclosed\n", file: "job.yaml")
        }
        #expect(e.code == .invalidFile)
        #expect(e.message.hasPrefix("job.yaml:"))
        #expect(e.message.contains("malformed YAML"))
        #expect(e.message.range(of: #"^job\.yaml:\d+:\d+: "#, options: .regularExpression) != nil)
    }

    @Test func emptyDocumentIsAnError() throws {
        let e = try #require(throws: AirlockError.self) { try YAMLReader.parse("# nothing\n", file: "x.yaml") }
        #expect(e.message == "x.yaml: the file is empty")
    }

    @Test func duplicateKeysAreErrors() throws {
        let e = try #require(throws: AirlockError.self) {
            try YAMLReader.parse("a: 1\nb:\n  c: 1\n  c: 2\n", file: "d.yaml")
        }
        #expect(e.message == "d.yaml:4:3: field 'b.c' is given twice (first on line 3)")
    }

    @Test func typedAccessorsReportPathAndPlace() throws {
        let root = try YAMLReader.parse("list:\n  - {n: 0x10, s: [1]}\n", file: "t.yaml")
        let item = try root.mapping()["list"]!.sequence()[0].mapping()
        #expect(try item["n"]!.uint64() == 16)
        #expect(try item["n"]!.int() == 16)
        let e = try #require(throws: AirlockError.self) { try item["s"]!.string() }
        #expect(e.message == "t.yaml:2:18: field 'list[0].s' must be a string, not a list")
    }

    @Test func unknownKeysSuggestTheClosest() throws {
        let root = try YAMLReader.parse("nmae: x\n", file: "u.yaml")
        let e = try #require(throws: AirlockError.self) { try root.mapping(allowedKeys: ["name", "steps"]) }
        #expect(e.message == "u.yaml:1:1: unknown field 'nmae' (did you mean 'name'?)")
        #expect(e.hint == "rename it to 'name'")
    }

    @Test func jsonWithTabIndentationParses() throws {
        let root = try YAMLReader.parse("{\n\t\"a\": [\n\t\t1,\n\t\t\"x\\ty\"\n\t]\n}\n", file: "j.json")
        let a = try root.mapping()["a"]!.sequence()
        #expect(try a[0].int() == 1)
        #expect(try a[1].string() == "x\ty")
        #expect(a[0].location.description == "j.json:3:3")
    }
}

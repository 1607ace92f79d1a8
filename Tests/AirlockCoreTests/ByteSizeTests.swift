import Testing

@testable import AirlockCore

@Suite struct ByteSizeTests {
    static let valid: [(String, UInt64)] = [
        ("512", 512), ("64k", 65536), ("64K", 65536), ("64KiB", 65536), ("512m", 536_870_912),
        ("512M", 536_870_912), ("512MiB", 536_870_912), ("2g", 2_147_483_648), ("2G", 2_147_483_648),
        ("2GiB", 2_147_483_648), ("1.5G", 1_610_612_736), ("1T", 1_099_511_627_776), ("0", 0),
        (" 16 MiB ", 16_777_216), ("100b", 100),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ expected: UInt64) throws {
        #expect(try ByteSize.parse(text) == expected)
    }

    @Test(arguments: ["", "abc", "12x", "1.2.3G", "-5", ".5G", "5.G", "64MB", "99999999999999999999", "20000000T"])
    func rejects(_ text: String) {
        #expect(throws: AirlockError.self) { try ByteSize.parse(text) }
    }

    @Test func decimalUnitsGetABinaryHint() throws {
        let e = try #require(throws: AirlockError.self) { try ByteSize.parse("64MB") }
        #expect(e.hint?.contains("64MiB") == true)
    }

    @Test func formatsWithLargestExactUnit() {
        #expect(ByteSize.format(2 << 30) == "2GiB")
        #expect(ByteSize.format(1536 << 20) == "1536MiB")
        #expect(ByteSize.format(100) == "100")
    }
}

@Suite struct DurationTests {
    static let valid: [(String, Double)] = [
        ("30", 30), ("30s", 30), ("500ms", 0.5), ("10m", 600), ("1h", 3600), ("1h30m", 5400),
        ("2m30s", 150), ("1.5h", 5400), ("1h0m5s", 3605), ("1s500ms", 1.5),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try DurationParse.seconds(text) == seconds)
    }

    @Test(arguments: ["", "abc", "10x", "30s2m", "1h1h", "m", "1 h x", "-5s"])
    func rejects(_ text: String) {
        #expect(throws: AirlockError.self) { try DurationParse.seconds(text) }
    }

    @Test func formats() {
        #expect(DurationParse.format(5400) == "1h30m")
        #expect(DurationParse.format(45) == "45s")
        #expect(DurationParse.format(0.5) == "500ms")
    }
}

@Suite struct SuggestTests {
    @Test func transpositionIsOneEdit() {
        #expect(Suggest.distance("stpes", "steps") == 1)
        #expect(Suggest.distance("ptrac", "ptrace") == 1)
        #expect(Suggest.distance("", "abc") == 3)
        #expect(Suggest.distance("kitten", "sitting") == 3)
    }

    @Test func suggestsOnlyCloseCandidates() {
        #expect(Suggest.closest(to: "stpes", in: ["name", "steps", "env"]) == "steps")
        #expect(Suggest.closest(to: "zzzzzz", in: ["name", "steps", "env"]) == nil)
        #expect(Suggest.didYouMean("outptus", in: ["outputs"]) == " (did you mean 'outputs'?)")
    }
}

@Suite struct PathSyntaxTests {
    @Test func normalises() {
        #expect(PathSyntax.normalized("/a//b/./c/../d/") == "/a/b/d")
        #expect(PathSyntax.normalized("/../x") == "/x")
        #expect(PathSyntax.normalized("a/../../b") == "../b")
        #expect(PathSyntax.isNormalizedAbsolute("/usr/lib"))
        #expect(!PathSyntax.isNormalizedAbsolute("/usr/"))
        #expect(!PathSyntax.isNormalizedAbsolute("/usr/../etc"))
        #expect(PathSyntax.isWithin("/proc/self", "/proc"))
        #expect(!PathSyntax.isWithin("/process", "/proc"))
        #expect(PathSyntax.resolve("src/", against: "/w/job") == "/w/job/src")
    }
}

@Suite struct CanonicalJSONTests {
    @Test func sortsKeysAndEscapes() {
        let v = JSONValue.object([
            "b": .array([.int(-1), .uint(UInt64.max), .double(1.5), .double(2)]), "a": .string("q\"\n\u{1}"),
            "c": .null, "d": .bool(true),
        ])
        #expect(v.rendered() == #"{"a":"q\"\n\u0001","b":[-1,18446744073709551615,1.5,2],"c":null,"d":true}"#)
        #expect(v.rendered(pretty: true).hasPrefix("{\n  \"a\": "))
    }
}

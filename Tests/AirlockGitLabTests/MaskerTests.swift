import Testing

@testable import AirlockGitLab

@Suite struct MaskerTests {
    @Test func aLongLineIsReleasedWithoutCuttingASecret() {
        var masker = TraceMasker(values: ["SECRET-VALUE-0123456789"], holdBack: 256)
        let line = String(repeating: "a", count: 180) + "SECRET-VALUE-0123456789" + String(repeating: "b", count: 400)
        var out: [UInt8] = []
        for chunk in Array(line.utf8).chunked(into: 9) { out += masker.feed(chunk) }
        #expect(!out.isEmpty, "more than holdBack bytes without a newline are released")
        out += masker.flush()
        let text = String(decoding: out, as: UTF8.self)
        #expect(text == String(repeating: "a", count: 180) + "[MASKED]" + String(repeating: "b", count: 400))
    }

    @Test func aTokenAtTheEndOfALongLineIsHeldUntilItEnds() {
        var masker = TraceMasker(values: [], holdBack: 128)
        var out = masker.feed(Array((String(repeating: "x", count: 300) + " glpat-abcdefghij").utf8))
        #expect(!String(decoding: out, as: UTF8.self).contains("glpat-"))
        out += masker.feed(Array("klmnop rest\n".utf8))
        #expect(String(decoding: out, as: UTF8.self).hasSuffix(" glpat-[MASKED] rest\n"))
    }

    @Test func carriageReturnEndsALine() {
        var masker = TraceMasker(values: ["pw-123456"])
        #expect(masker.feed(Array("progress pw-123456 10%\r".utf8)) == Array("progress [MASKED] 10%\r".utf8))
    }

    @Test func shortPrefixesAloneAreNotMasked() {
        let masker = TraceMasker(values: [])
        #expect(masker.mask(Array("see glpat- docs\n".utf8)) == Array("see glpat- docs\n".utf8))
    }
}

extension Array {
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min(count, $0 + size)]) }
    }
}

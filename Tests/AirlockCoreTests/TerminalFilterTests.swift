import AirlockCore
import Testing

@Suite("terminal filter")
struct TerminalFilterTests {
    /// The whole of `input` through one filter, in chunks split at `splits` (byte offsets).
    static func filtered(_ input: [UInt8], splits: [Int] = []) -> [UInt8] {
        var f = TerminalFilter()
        var out: [UInt8] = []
        var start = 0
        for s in splits + [input.count] {
            out += f.process(input[start..<s])
            start = s
        }
        return out + f.finish()
    }

    static func filtered(_ input: String) -> String {
        String(decoding: filtered(Array(input.utf8)), as: UTF8.self)
    }

    /// (input, what the terminal gets): one of each class of text, control and escape.
    static let cases: [(String, String)] = [
        // Text, UTF-8 and the three controls that stay.
        ("plain text\n", "plain text\n"),
        ("tab\there\r\n", "tab\there\r\n"),
        ("progress 10%\rprogress 20%\n", "progress 10%\rprogress 20%\n"),
        ("héllo € 漢字 🚀\n", "héllo € 漢字 🚀\n"),
        // SGR colours stay, conceal goes.
        ("\u{1B}[31mred\u{1B}[0m", "\u{1B}[31mred\u{1B}[0m"),
        ("\u{1B}[1;32mbold green\u{1B}[m", "\u{1B}[1;32mbold green\u{1B}[m"),
        ("\u{1B}[38;5;196m256\u{1B}[48;2;10;20;30mtrue", "\u{1B}[38;5;196m256\u{1B}[48;2;10;20;30mtrue"),
        ("\u{1B}[38:2::1:2:3mcolon", "\u{1B}[38:2::1:2:3mcolon"),
        ("\u{1B}[38;5;8mgrey is colour 8", "\u{1B}[38;5;8mgrey is colour 8"),
        ("\u{1B}[8mhidden", "hidden"),
        ("\u{1B}[08mhidden", "hidden"),
        ("\u{1B}[1;8;31mx", "\u{1B}[1;31mx"),
        ("\u{1B}[38;2;1;2;3;8mx", "\u{1B}[38;2;1;2;3mx"),
        ("\u{1B}[8:1mx", "x"),
        // Other CSI: cursor movement, erase, modes, private and answer-back sequences.
        ("a\u{1B}[2Jb", "ab"),
        ("a\u{1B}[Hb\u{1B}[10;20Hc", "abc"),
        ("a\u{1B}[1Ab\u{1B}[3Bc\u{1B}[5Cd\u{1B}[2De", "abcde"),
        ("a\u{1B}[Kb\u{1B}[2Kc", "abc"),
        ("a\u{1B}[?1049hb\u{1B}[?25lc", "abc"),
        ("a\u{1B}[>4;2mb", "ab"),
        ("a\u{1B}[6nb\u{1B}[cc", "abc"),
        ("a\u{1B}[3 qb", "ab"),
        ("a\u{1B}[1;24rb", "ab"),
        // OSC: title, clipboard, hyperlinks; both terminators.
        ("a\u{1B}]0;pwned title\u{07}b", "ab"),
        ("a\u{1B}]52;c;ZWNobyBwd25lZA==\u{1B}\\b", "ab"),
        ("\u{1B}]8;;https://evil.example/\u{1B}\\link\u{1B}]8;;\u{1B}\\", "link"),
        ("a\u{1B}]2;t\u{9C}b", "ab"),
        // DCS, SOS, PM, APC strings.
        ("a\u{1B}P+q544e\u{1B}\\b", "ab"),
        ("a\u{1B}Xsos\u{1B}\\b\u{1B}^pm\u{1B}\\c\u{1B}_apc\u{1B}\\d", "abcd"),
        // Other escape sequences.
        ("a\u{1B}7b\u{1B}8c\u{1B}cd\u{1B}Me", "abcde"),
        ("a\u{1B}(0b\u{1B}#8c\u{1B}%Gd", "abcd"),
        // C0 controls other than \n \t \r, and DEL.
        ("a\u{07}b\u{08}c\u{0B}d\u{0C}e\u{00}f\u{0E}g\u{0F}h\u{7F}i", "abcdefghi"),
        // C1 controls as UTF-8 (U+0080–U+009F), bidirectional overrides.
        ("a\u{9B}31mb\u{9D}0;t\u{85}c", "a31mb0;tc"),
        ("ab\u{202E}dc\u{2066}e\u{2069}", "abdce"),
        // Malformed sequences: the sequence goes, what breaks it is treated as if it had not begun.
        ("\u{1B}[31\nm", "\nm"),
        ("\u{1B}[31\u{18}m", "m"),
        ("\u{1B}]0;x\u{1B}[31mred", "\u{1B}[31mred"),
        ("\u{1B}\u{1B}[32mg", "\u{1B}[32mg"),
        ("a\u{1B}", "a"),
        ("a\u{1B}[3", "a"),
        ("a\u{1B}]0;unterminated", "a"),
    ]

    @Test func eachClassIsKeptOrDropped() {
        for (input, expected) in Self.cases {
            let got = Self.filtered(input)
            #expect(got == expected, "\(Array(input.utf8)) gave \(Array(got.utf8))")
        }
    }

    @Test func splitAcrossChunksAtEveryByteOffset() {
        for (input, expected) in Self.cases {
            let bytes = Array(input.utf8)
            let whole = Array(expected.utf8)
            for k in 0...bytes.count {
                #expect(Self.filtered(bytes, splits: [k]) == whole, "\(input.debugDescription) split at \(k)")
            }
            #expect(
                Self.filtered(bytes, splits: Array(0...bytes.count)) == whole, "\(input.debugDescription) bytewise")
        }
        // Everything at once, split everywhere.
        let all = Array(Self.cases.map(\.0).joined(separator: "\n").utf8)
        let once = Self.filtered(all)
        for k in stride(from: 0, through: all.count, by: 1) {
            #expect(Self.filtered(all, splits: [k]) == once, "split at \(k)")
        }
    }

    @Test func malformedUTF8AndRawC1BytesBecomeReplacementCharacters() {
        let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]
        #expect(Self.filtered([0x61, 0x9B, 0x33, 0x31, 0x6D]) == [0x61] + fffd + Array("31m".utf8))
        #expect(Self.filtered([0x9D, 0x30, 0x3B, 0x07]) == fffd + Array("0;".utf8))
        #expect(Self.filtered([0xFF, 0xC0, 0x80]) == fffd + fffd + fffd)
        #expect(Self.filtered([0xED, 0xA0, 0x80]) == fffd + fffd + fffd, "a surrogate is not UTF-8")
        #expect(Self.filtered([0xC3]) == fffd, "an unfinished character at the end")
        #expect(Self.filtered([0xC3, 0x41]) == fffd + [0x41])
    }

    @Test func anUnterminatedOSCIsBoundedAndDoesNotSwallowTheRestOfTheStream() {
        var f = TerminalFilter()
        var out: [UInt8] = []
        out += f.process(Array("\u{1B}]52;c;".utf8))
        let chunk = [UInt8](repeating: 0x41, count: 4096)
        var maxHeld = 0
        for _ in 0..<256 {  // 1 MiB without a terminator
            out += f.process(chunk)
            maxHeld = max(maxHeld, f.heldByteCount)
        }
        out += f.finish()
        #expect(maxHeld == 0, "string contents are never held")
        #expect(out.allSatisfy { $0 == 0x41 })
        let total = 256 * 4096
        #expect(out.count < total && out.count >= total - TerminalFilter.maxStringLength - 8)
    }

    @Test func anOverlongCSIIsDroppedWithBoundedMemory() {
        var f = TerminalFilter()
        var out: [UInt8] = []
        out += f.process(Array("a\u{1B}[".utf8))
        var maxHeld = 0
        for _ in 0..<10_000 {
            out += f.process(Array("1;".utf8))
            maxHeld = max(maxHeld, f.heldByteCount)
        }
        out += f.process(Array("mb".utf8)) + f.finish()
        #expect(maxHeld <= TerminalFilter.maxSequenceLength + 1)
        #expect(out == Array("ab".utf8))
    }

    @Test func finishDropsAPartialSequenceAndTheFilterStartsAfresh() {
        var f = TerminalFilter()
        #expect(f.process(Array("ok\u{1B}]0;ti".utf8)) == Array("ok".utf8))
        #expect(f.finish().isEmpty)
        #expect(f.process(Array("tle\u{07}next".utf8)) == Array("tlenext".utf8))
    }

    @Test func attributesActiveTracksWhetherAResetIsNeeded() {
        var f = TerminalFilter()
        _ = f.process(Array("plain".utf8))
        #expect(!f.attributesActive)
        _ = f.process(Array("\u{1B}[30;40m".utf8))
        #expect(f.attributesActive)
        _ = f.process(Array("\u{1B}[0m".utf8))
        #expect(!f.attributesActive)
        _ = f.process(Array("\u{1B}[8m".utf8))
        #expect(!f.attributesActive, "a dropped sequence changes nothing")
        _ = f.process(Array("\u{1B}[1m".utf8))
        _ = f.finish()
        #expect(f.attributesActive, "finish does not reset the terminal")
        f.attributesWereReset()
        #expect(!f.attributesActive)
    }
}

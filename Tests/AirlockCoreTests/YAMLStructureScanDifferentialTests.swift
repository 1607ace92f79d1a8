import Testing

@testable import AirlockCore

/// The pre-scan must never count less than libyaml builds: random documents made of YAML's
/// indicators, quotes, comments, anchors and indentation are composed by Yams, and the scan with a
/// limit one below the composed tree's depth (or node count) must refuse them.
@Suite struct YAMLStructureScanDifferentialTests {
    /// SplitMix64: a fixed seed gives the same documents on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let pieces = [
        "[", "]", "{", "}", ",", ": ", ":", "- ", "-", "? ", "\n", "  ", " ", "a", "b", "'", "\"", "#", "|", ">",
        "&x ", "&y ", "*x", "*y", " *x", "!t ", "\\", "\t", "\n  ", "\n    ", "x: ", "- [", "? [", "[a: ", "{a: ",
        "\n&x ", "\ny: ", "\n- ", "&x\n  ",
    ]

    func depth(_ n: YAMLNode) -> Int {
        if let seq = try? n.sequence() { return 1 + (seq.map(depth).max() ?? 0) }
        if let map = try? n.mapping() {
            return 1 + (map.entries.map { max(depth($0.keyNode), depth($0.value)) }.max() ?? 0)
        }
        return 0
    }

    func nodes(_ n: YAMLNode) -> Int {
        if let seq = try? n.sequence() { return 1 + seq.map(nodes).reduce(0, +) }
        if let map = try? n.mapping() {
            return 1 + map.entries.map { nodes($0.keyNode) + nodes($0.value) }.reduce(0, +)
        }
        return 1
    }

    func refuses(_ text: String, depth: Int = 10_000, nodes: Int = 10_000_000) -> Bool {
        let limits = StructureLimits(maxBytes: 1 << 20, maxDepth: depth, maxNodes: nodes, subject: "tests")
        return (try? YAMLStructureScan.check(text, file: "f.yaml", limits: limits)) == nil
    }

    @Test func theScanNeverCountsLessThanTheComposedTree() throws {
        var rng = SeededGenerator(state: 20_261_204)
        let generous = StructureLimits(maxBytes: 1 << 20, maxDepth: 10_000, maxNodes: 10_000_000, subject: "tests")
        var composed = 0
        for _ in 0..<40_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...40, using: &rng) { text += Self.pieces.randomElement(using: &rng)! }
            guard let root = try? YAMLReader.parse(text, file: "f.yaml", limits: generous) else { continue }
            composed += 1
            let (d, n) = (depth(root), nodes(root))
            #expect(d == 0 || refuses(text, depth: d - 1), "depth \(d) undercounted: \(text.debugDescription)")
            #expect(n <= 1 || refuses(text, nodes: n - 1), "\(n) nodes undercounted: \(text.debugDescription)")
        }
        #expect(composed > 1000, "enough of the random documents are valid YAML")
    }
}

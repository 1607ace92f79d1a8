/// Masks secrets in a job log before it leaves the runner.
///
/// Works on complete lines (ending in `\n` or `\r`): the tail of a line is held back until its
/// end arrives, so a secret split across writes is still found. A line longer than `holdBack`
/// is released early, cut before any secret that might straddle the cut.
///
/// Masked: every value in `values` (whole, replaced by `[MASKED]`) and GitLab token shapes,
/// a known prefix (`glpat-`, `glrt-`…) followed by token characters, of which the prefix is
/// kept and the rest masked.
struct TraceMasker: Sendable {
    /// Prefixes of GitLab's tokens (personal, runner, CI job, pipeline trigger, deploy,
    /// SCIM/OAuth, feed, incoming mail, agent, feature-flag client, runner registration…).
    static let tokenPrefixes = [
        "glpat-", "glrt-", "glrtr-", "glcbt-", "glptt-", "gldt-", "glsoat-", "gloas-", "glft-",
        "glimt-", "glagent-", "glffct-", "gltst-", "glwt-", "GR1348941",
    ]
    static let replacement = Array("[MASKED]".utf8)

    private let values: [[UInt8]]
    private let prefixes: [[UInt8]]
    private let holdBack: Int
    private let keep: Int
    private var pending: [UInt8] = []

    init(values: [String], holdBack: Int = 8192) {
        let unique = Set(values.filter { !$0.isEmpty }).map { Array($0.utf8) }
        self.values = unique.sorted { $0.count > $1.count }
        self.prefixes = Self.tokenPrefixes.map { Array($0.utf8) }
        let longest = max(self.values.first?.count ?? 0, 64)
        self.keep = longest
        self.holdBack = max(holdBack, 2 * longest)
    }

    /// Takes more output; returns what can be sent now, masked.
    mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        pending.append(contentsOf: bytes)
        if let last = pending.lastIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
            let ready = Array(pending[...last])
            pending.removeFirst(last + 1)
            var out = mask(ready)
            if pending.count > holdBack { out += releaseLongLine() }
            return out
        }
        return pending.count > holdBack ? releaseLongLine() : []
    }

    /// Everything still held back, masked (at the end of the job).
    mutating func flush() -> [UInt8] {
        defer { pending = [] }
        return mask(pending)
    }

    /// Releases the head of an over-long line, keeping back `keep` bytes and any secret or token
    /// that would be cut.
    private mutating func releaseLongLine() -> [UInt8] {
        var cut = pending.count - keep
        let found = matches(in: pending)
        for match in found.reversed() where match.range.lowerBound < cut && match.range.upperBound > cut {
            cut = match.range.lowerBound
        }
        // A token reaching the end may still grow: keep it back whole.
        if let lastMatch = found.last, lastMatch.range.upperBound == pending.count {
            cut = min(cut, lastMatch.range.lowerBound)
        }
        guard cut > 0 else { return [] }
        let head = Array(pending[..<cut])
        pending.removeFirst(cut)
        return mask(head)
    }

    struct Match {
        var range: Range<Int>
        /// Bytes at the start of the match shown as they are (a token's prefix).
        var shown: Int
    }

    func mask(_ bytes: [UInt8]) -> [UInt8] {
        let found = matches(in: bytes)
        guard !found.isEmpty else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        for match in found {
            out += bytes[position..<match.range.lowerBound]
            out += bytes[match.range.lowerBound..<(match.range.lowerBound + match.shown)]
            out += Self.replacement
            position = match.range.upperBound
        }
        out += bytes[position...]
        return out
    }

    /// All secret and token occurrences, sorted, overlapping ones merged.
    func matches(in bytes: [UInt8]) -> [Match] {
        var found: [Match] = []
        for value in values {
            var start = 0
            while let hit = Self.find(value, in: bytes, from: start) {
                found.append(Match(range: hit..<(hit + value.count), shown: 0))
                start = hit + value.count
            }
        }
        for prefix in prefixes {
            var start = 0
            while let hit = Self.find(prefix, in: bytes, from: start) {
                var end = hit + prefix.count
                while end < bytes.count, Self.isTokenByte(bytes[end]) { end += 1 }
                if end - hit - prefix.count >= 4 {
                    found.append(Match(range: hit..<end, shown: prefix.count))
                }
                start = max(end, hit + 1)
            }
        }
        found.sort { $0.range.lowerBound < $1.range.lowerBound }
        var merged: [Match] = []
        for match in found {
            if let last = merged.last, match.range.lowerBound < last.range.upperBound {
                let upper = max(last.range.upperBound, match.range.upperBound)
                merged[merged.count - 1] = Match(
                    range: last.range.lowerBound..<upper,
                    shown: upper == last.range.upperBound ? last.shown : 0)
            } else {
                merged.append(match)
            }
        }
        return merged
    }

    static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
            || b == 0x5F
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            guard let hit = haystack[i...last].firstIndex(of: first) else { return nil }
            var j = 1
            while j < needle.count, haystack[hit + j] == needle[j] { j += 1 }
            if j == needle.count { return hit }
            i = hit + 1
        }
        return nil
    }
}

/// Parses and formats durations written by people (`30`, `30s`, `500ms`, `10m`, `1h30m`).
///
/// A bare number is seconds. Components may carry decimals (`1.5h`) and must appear from the
/// largest unit to the smallest, each at most once (`1h30m`, `2m30s`, not `30s2m`).
public enum DurationParse {
    private static let units: [(name: String, seconds: Double)] = [
        ("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001),
    ]

    /// Parses `s` into seconds.
    /// - Throws: `AirlockError(.invalidFile)` saying what was wrong, with a hint showing the syntax.
    public static func seconds(_ s: String) throws -> Double {
        let text = s.trimmingWhitespace()
        let hint = "write seconds (30) or a duration such as 30s, 500ms, 10m, 1h, 1h30m"
        guard !text.isEmpty else { throw AirlockError(.invalidFile, "empty duration", hint: hint) }
        if let plain = Double(text), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            return plain
        }
        var total = 0.0
        var rest = Substring(text)
        var lastRank = -1
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), number.first != ".",
                let rank = units.firstIndex(where: { $0.name == unit.lowercased() })
            else {
                throw AirlockError(.invalidFile, "'\(s)' is not a duration", hint: hint)
            }
            guard rank > lastRank else {
                throw AirlockError(
                    .invalidFile, "'\(s)' is not a duration: units must go from hours down to milliseconds, once each",
                    hint: hint)
            }
            lastRank = rank
            total += value * units[rank].seconds
        }
        return total
    }

    /// Renders seconds compactly (`1h30m`, `45s`, `500ms`, `1.5s`).
    public static func format(_ seconds: Double) -> String {
        if seconds < 1, seconds > 0 {
            let ms = seconds * 1000
            return ms == ms.rounded() ? "\(Int(ms))ms" : "\(seconds)s"
        }
        guard seconds == seconds.rounded(), seconds < 1e15 else { return "\(seconds)s" }
        var rest = Int(seconds)
        var out = ""
        if rest >= 3600 { out += "\(rest / 3600)h"; rest %= 3600 }
        if rest >= 60 { out += "\(rest / 60)m"; rest %= 60 }
        if rest > 0 || out.isEmpty { out += "\(rest)s" }
        return out
    }
}

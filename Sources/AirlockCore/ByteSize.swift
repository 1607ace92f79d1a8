/// Parses and formats byte sizes written by people (`512`, `64k`, `512MiB`, `1.5G`).
///
/// Units are binary: `k`/`K`/`KiB` = 1024, `m`/`M`/`MiB` = 1024², `g`/`G`/`GiB` = 1024³,
/// `t`/`T`/`TiB` = 1024⁴. A bare number (or a YAML integer) is bytes. Decimal-looking units such
/// as `MB` are refused rather than guessed, so a limit never silently differs by 5 %.
public enum ByteSize {
    private static let multipliers: [(suffixes: [String], shift: UInt64)] = [
        (["", "b"], 0),
        (["k", "ki", "kib"], 10),
        (["m", "mi", "mib"], 20),
        (["g", "gi", "gib"], 30),
        (["t", "ti", "tib"], 40),
    ]

    /// Parses `s` into a number of bytes.
    ///
    /// - Throws: `AirlockError(.invalidFile)` describing what was wrong; callers that know the
    ///   file and field wrap or prefix it (see `YAMLNode.byteSize()`).
    public static func parse(_ s: String) throws -> UInt64 {
        let text = s.trimmingWhitespace()
        let hint = "write a whole number of bytes or a number with a binary unit: 512, 64KiB, 512M, 2GiB, 1.5G"
        guard !text.isEmpty else {
            throw AirlockError(.invalidFile, "empty size", hint: hint)
        }
        // Split "1.5 GiB" into number and unit.
        let numberPart = text.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unitPart = text.dropFirst(numberPart.count).trimmingWhitespace()
        guard !numberPart.isEmpty, numberPart.filter({ $0 == "." }).count <= 1,
            numberPart.first != ".", numberPart.last != "."
        else {
            throw AirlockError(.invalidFile, "'\(s)' is not a size", hint: hint)
        }
        let unit = unitPart.lowercased()
        if ["kb", "mb", "gb", "tb"].contains(unit) {
            throw AirlockError(
                .invalidFile, "'\(s)' uses a decimal-looking unit '\(unitPart)'",
                hint: "Airlock sizes are binary; write \(numberPart)\(unitPart.prefix(1).uppercased())iB")
        }
        guard let shift = multipliers.first(where: { $0.suffixes.contains(unit) })?.shift else {
            throw AirlockError(.invalidFile, "'\(s)' has an unknown unit '\(unitPart)'", hint: hint)
        }
        let scale = UInt64(1) << shift
        if !numberPart.contains(".") {
            guard let n = UInt64(numberPart) else {
                throw AirlockError(.invalidFile, "'\(s)' is too large", hint: hint)
            }
            let (product, overflow) = n.multipliedReportingOverflow(by: scale)
            guard !overflow else {
                throw AirlockError(.invalidFile, "'\(s)' is too large", hint: hint)
            }
            return product
        }
        guard let d = Double(numberPart) else {
            throw AirlockError(.invalidFile, "'\(s)' is not a size", hint: hint)
        }
        let bytes = (d * Double(scale)).rounded(.down)
        guard bytes < 1.8e19 else {
            throw AirlockError(.invalidFile, "'\(s)' is too large", hint: hint)
        }
        return UInt64(bytes)
    }

    /// Renders `bytes` compactly with the largest exact binary unit (`2GiB`, `1536MiB`, `100`).
    public static func format(_ bytes: UInt64) -> String {
        for (suffix, shift) in [("TiB", UInt64(40)), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            let scale = UInt64(1) << shift
            if bytes >= scale, bytes % scale == 0 { return "\(bytes / scale)\(suffix)" }
        }
        return "\(bytes)"
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = lastIndex(where: { !isSpace($0) })!
        return String(self[start...end])
    }
}

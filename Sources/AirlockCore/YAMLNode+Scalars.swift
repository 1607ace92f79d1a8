/// Typed scalar accessors. Each throws an error naming file, line, column and field.
extension YAMLNode {
    /// The scalar as text. Any non-null scalar is accepted (`name: 123` reads as `"123"`).
    public func string() throws -> String {
        guard let s = scalarText else {
            throw error("\(fieldDescription) must be a string, not \(kindDescription)")
        }
        return s
    }

    /// The scalar as non-empty text.
    public func nonEmptyString() throws -> String {
        let s = try string()
        guard !s.isEmpty else { throw error("\(fieldDescription) must not be empty") }
        return s
    }

    /// A list of strings; when `allowSingle` is set a lone string is accepted as a one-element list.
    public func stringList(allowSingle: Bool = false) throws -> [String] {
        if allowSingle, scalarText != nil { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    /// A signed integer written in decimal or hexadecimal (`0x…`); `_` separators are allowed.
    public func int() throws -> Int {
        guard let text = scalarText, let v = YAMLNode.parseInteger(text), let i = Int(exactly: v.magnitude),
            v.negative ? i >= 0 : true
        else {
            throw error("\(fieldDescription) must be an integer, not \(kindDescription)")
        }
        return v.negative ? -i : i
    }

    /// An unsigned 64-bit integer written in decimal or hexadecimal (`0x10000000`).
    public func uint64() throws -> UInt64 {
        guard let text = scalarText, let v = YAMLNode.parseInteger(text), !v.negative else {
            throw error(
                "\(fieldDescription) must be a non-negative integer (decimal or 0x hex), not \(kindDescription)")
        }
        return v.magnitude
    }

    /// A number (`2`, `1.5`).
    public func double() throws -> Double {
        guard let text = scalarText, let d = Double(text.replacingOccurrences(of: "_", with: "")), d.isFinite else {
            throw error("\(fieldDescription) must be a number, not \(kindDescription)")
        }
        return d
    }

    /// `true`/`false` (YAML 1.1 `yes`/`no`/`on`/`off` are accepted too).
    public func bool() throws -> Bool {
        switch scalarText?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("\(fieldDescription) must be true or false, not \(kindDescription)")
        }
    }

    /// A byte size (`512`, `64KiB`, `2G`, `1.5GiB`); see `ByteSize`.
    public func byteSize() throws -> UInt64 {
        let text = try string()
        do { return try ByteSize.parse(text) } catch { throw wrap(error, what: "is not a valid size") }
    }

    /// A duration in seconds (`30`, `500ms`, `1h30m`); see `DurationParse`.
    public func duration() throws -> Double {
        let text = try string()
        do { return try DurationParse.seconds(text) } catch { throw wrap(error, what: "is not a valid duration") }
    }

    /// One of `choices`; anything else is an error that lists them and suggests the closest.
    public func oneOf(_ choices: [String]) throws -> String {
        let s = try string()
        guard choices.contains(s) else {
            throw error(
                "\(fieldDescription) must be one of \(choices.joined(separator: ", ")), not '\(s)'\(Suggest.didYouMean(s, in: choices))"
            )
        }
        return s
    }

    /// The integer written in `text` (decimal, `0x` hex or `0o` octal, `_` separators allowed).
    public static func integerValue(of text: String) -> Int? {
        guard let v = parseInteger(text), let i = Int(exactly: v.magnitude) else { return nil }
        return v.negative ? -i : i
    }

    /// Parses `123`, `-5`, `0x1F`, `0o17`, `1_000` into sign and magnitude.
    static func parseInteger(_ raw: String) -> (negative: Bool, magnitude: UInt64)? {
        var t = Substring(raw.trimmingWhitespace().replacingOccurrences(of: "_", with: ""))
        var negative = false
        if t.first == "-" || t.first == "+" {
            negative = t.first == "-"
            t = t.dropFirst()
        }
        let lower = t.lowercased()
        let v: UInt64?
        if lower.hasPrefix("0x") {
            v = UInt64(lower.dropFirst(2), radix: 16)
        } else if lower.hasPrefix("0o") {
            v = UInt64(lower.dropFirst(2), radix: 8)
        } else if !lower.isEmpty, lower.allSatisfy({ $0.isASCII && $0.isNumber }) {
            v = UInt64(lower)
        } else {
            v = nil
        }
        return v.map { (negative && $0 != 0, $0) }
    }
}

/// Size, depth and node checks for JSON, in one pass before a decoder sees it, and a way to read
/// a few top-level fields of a document that was refused (so a bad job can still be failed).
///
/// Structure characters outside strings are counted; a string ends at an unescaped `"`. For
/// invalid JSON the count may be off, but a decoder stops at the first error anyway.
public enum JSONStructureScan {
    /// Throws `AirlockError(.invalidFile)` naming `name`, the line and column and the limit when
    /// `bytes` is larger, deeper or has more values than `limits` allow.
    public static func check(_ bytes: [UInt8], name: String, limits: StructureLimits) throws {
        if bytes.count > limits.maxBytes {
            throw limits.tooLarge(file: name, at: textPosition(of: limits.maxBytes, in: bytes))
        }
        var depth = 0
        var nodes = 0
        var inString = false
        var escaped = false
        var inLiteral = false
        for (offset, b) in bytes.enumerated() {
            if inString {
                if escaped {
                    escaped = false
                } else if b == UInt8(ascii: "\\") {
                    escaped = true
                } else if b == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            let startsValue: Bool
            switch b {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limits.maxDepth {
                    let at = textPosition(of: offset, in: bytes)
                    throw limits.tooDeep(file: name, line: at.line, column: at.column)
                }
                startsValue = true
                inLiteral = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
                startsValue = false
                inLiteral = false
            case UInt8(ascii: "\""):
                inString = true
                startsValue = true
                inLiteral = false
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"):
                startsValue = false
                inLiteral = false
            default:  // numbers, true, false, null
                startsValue = !inLiteral
                inLiteral = true
            }
            if startsValue {
                nodes += 1
                if nodes > limits.maxNodes {
                    let at = textPosition(of: offset, in: bytes)
                    throw limits.tooManyNodes(file: name, line: at.line, column: at.column)
                }
            }
        }
    }

    /// The raw text of the values of `names` among the top-level object's members (`"id": 12`
    /// gives `"id": "12"`, strings keep their quotes), without building the document. Nested
    /// values are skipped however deep they are.
    public static func topLevelValues(_ bytes: [UInt8], names: Set<String>) -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]
        var depth = 0
        var i = 0
        var lastKey: String?
        var expectingValue = false
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1
                }
                let literal = Array(bytes[start..<min(i + 1, bytes.count)])
                if depth == 1 {
                    if expectingValue, let key = lastKey {
                        if names.contains(key) { out[key] = literal }
                        lastKey = nil
                        expectingValue = false
                    } else {
                        lastKey = String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
                    }
                }
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth == 2 { expectingValue = false }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ":") where depth == 1:
                expectingValue = lastKey != nil
            case UInt8(ascii: ","), 0x20, 0x09, 0x0A, 0x0D:
                break
            default:
                if depth == 1 && expectingValue, let key = lastKey {
                    var end = i
                    while end < bytes.count && !",}] \t\r\n".utf8.contains(bytes[end]) { end += 1 }
                    if names.contains(key) { out[key] = Array(bytes[i..<end]) }
                    lastKey = nil
                    expectingValue = false
                    i = end
                    continue
                }
            }
            i += 1
        }
        return out
    }
}

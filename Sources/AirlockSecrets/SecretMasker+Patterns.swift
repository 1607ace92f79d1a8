extension SecretMasker {
    /// Every byte string that reveals `value` in a log: the value itself and its common
    /// encodings, deduplicated, without those shorter than `minimumPatternLength` (and none at
    /// all for a value shorter than that).
    ///
    /// - raw bytes;
    /// - standard base64 and base64url, at all three byte alignments: a secret inside a longer
    ///   base64 stream starts 0, 1 or 2 bytes into a 3-byte group, and each alignment encodes
    ///   it differently. For each we keep only the characters that depend on the secret alone
    ///   (not on the bytes before or after it); for alignment 0 also the whole standalone
    ///   encoding, with and without `=` padding, as `base64` prints it;
    /// - URL encoding: every byte outside the unreserved set as `%XX` (upper- and lower-case
    ///   hex), the same leaving `!'()*` as `encodeURIComponent` does, and the form variants
    ///   that write a space as `+`;
    /// - hex, lower- and upper-case;
    /// - JSON string escaping: minimal, with `\/`, and ASCII-only (`\uXXXX` for non-ASCII, as
    ///   Python's `json.dumps` writes).
    static func patterns(for value: [UInt8]) -> [[UInt8]] {
        // Patterns this short would match all over an ordinary log: masking "a" or "42"
        // would turn every occurrence of those letters into [MASKED] and make the log
        // useless, while hiding almost nothing (a secret that short is guessable anyway).
        // The same goes for the encodings of such a value (the hex of "at" is "6174"): they
        // carry no more information than the value, so a short value gets no patterns at all.
        guard value.count >= minimumPatternLength else { return [] }
        var out: [[UInt8]] = [value]
        for alphabet in [Base64Alphabet.standard, .url] {
            for alignment in 0..<3 {
                out.append(base64StableCore(value, alignment: alignment, alphabet: alphabet))
            }
            out.append(base64(value, alphabet: alphabet, pad: false))
            out.append(base64(value, alphabet: alphabet, pad: true))
        }
        for upper in [false, true] {
            for keepSubDelims in [false, true] {
                for plusForSpace in [false, true] {
                    out.append(
                        urlEncode(value, upperHex: upper, keepSubDelims: keepSubDelims, plusForSpace: plusForSpace))
                }
            }
            out.append(hex(value, upper: upper))
        }
        for escapeSlash in [false, true] {
            for asciiOnly in [false, true] {
                if let j = jsonEscape(value, escapeSlash: escapeSlash, asciiOnly: asciiOnly) { out.append(j) }
            }
        }
        // Encodings shorter than the minimum (the stable base64 core of a 4-byte value at an
        // unlucky alignment can be 4–5 characters) are dropped for the same reason.
        var seen = Set<[UInt8]>()
        return out.filter { $0.count >= minimumPatternLength && seen.insert($0).inserted }
    }

    enum Base64Alphabet {
        case standard, url
        var table: [UInt8] {
            switch self {
            case .standard: return Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
            case .url: return Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            }
        }
    }

    /// Base64 of `bytes`.
    static func base64(_ bytes: [UInt8], alphabet: Base64Alphabet, pad: Bool) -> [UInt8] {
        let table = alphabet.table
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            let available = min(3, bytes.count - i)
            let chars = available + 1
            for k in 0..<4 {
                if k < chars {
                    out.append(table[Int((n >> UInt32(18 - 6 * k)) & 0x3f)])
                } else if pad {
                    out.append(UInt8(ascii: "="))
                }
            }
            i += 3
        }
        return out
    }

    /// The characters of base64(`alignment` unknown bytes + `value` + unknown bytes) that
    /// depend only on `value`: character `i` covers bits `6i..<6i+6`, and we keep those lying
    /// entirely inside the value's bits `8·alignment..<8·(alignment+count)`.
    static func base64StableCore(_ value: [UInt8], alignment: Int, alphabet: Base64Alphabet) -> [UInt8] {
        let encoded = base64([UInt8](repeating: 0, count: alignment) + value, alphabet: alphabet, pad: false)
        let first = (8 * alignment + 5) / 6
        let end = 8 * (alignment + value.count) / 6
        guard first < end, end <= encoded.count else { return [] }
        return Array(encoded[first..<end])
    }

    static func hex(_ bytes: [UInt8], upper: Bool) -> [UInt8] {
        let digits = Array((upper ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return out
    }

    /// Percent-encoding: unreserved bytes (`A-Z a-z 0-9 - . _ ~`) stay, everything else is `%XX`.
    static func urlEncode(_ bytes: [UInt8], upperHex: Bool, keepSubDelims: Bool, plusForSpace: Bool) -> [UInt8] {
        let digits = Array((upperHex ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        for b in bytes {
            let unreserved =
                (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
            let subDelim =
                b == UInt8(ascii: "!") || b == UInt8(ascii: "'") || b == UInt8(ascii: "(") || b == UInt8(ascii: ")")
                || b == UInt8(ascii: "*")
            if unreserved || (keepSubDelims && subDelim) {
                out.append(b)
            } else if plusForSpace && b == 0x20 {
                out.append(UInt8(ascii: "+"))
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(b >> 4)])
                out.append(digits[Int(b & 0x0f)])
            }
        }
        return out
    }

    /// The body of a JSON string holding `bytes` (nil when they are not UTF-8).
    static func jsonEscape(_ bytes: [UInt8], escapeSlash: Bool, asciiOnly: Bool) -> [UInt8]? {
        guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        func u(_ unit: UInt16) {
            out.append(contentsOf: Array("\\u".utf8))
            for shift in [12, 8, 4, 0] { out.append(digits[Int((unit >> UInt16(shift)) & 0xf)]) }
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: Array("\\\"".utf8))
            case "\\": out.append(contentsOf: Array("\\\\".utf8))
            case "/" where escapeSlash: out.append(contentsOf: Array("\\/".utf8))
            case "\n": out.append(contentsOf: Array("\\n".utf8))
            case "\r": out.append(contentsOf: Array("\\r".utf8))
            case "\t": out.append(contentsOf: Array("\\t".utf8))
            case "\u{08}": out.append(contentsOf: Array("\\b".utf8))
            case "\u{0C}": out.append(contentsOf: Array("\\f".utf8))
            default:
                if scalar.value < 0x20 {
                    u(UInt16(scalar.value))
                } else if asciiOnly && scalar.value > 0x7f {
                    for unit in String(scalar).utf16 { u(unit) }
                } else {
                    out.append(contentsOf: Array(String(scalar).utf8))
                }
            }
        }
        return out
    }
}

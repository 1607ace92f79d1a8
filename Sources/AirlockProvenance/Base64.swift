import AirlockCore

/// Base64 as DSSE uses it: standard alphabet with padding when writing; standard or URL-safe,
/// padded or not, when reading (the DSSE protocol says verifiers MUST accept either alphabet).
/// Works on `[UInt8]` so buffers holding key material stay in memory this module can zero.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 with `=` padding.
    static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
            ]
        }
        // The text may encode a private key: zero the working buffer once it is copied out.
        defer { zeroize(&out) }
        return String(decoding: out, as: UTF8.self)
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return 62
        case UInt8(ascii: "/"), UInt8(ascii: "_"): return 63
        default: return nil
        }
    }

    /// Decode standard or URL-safe base64; padding optional; ASCII whitespace (PEM line breaks)
    /// skipped when `skippingWhitespace`. Nil when a character is outside both alphabets or the
    /// length is impossible.
    static func decode<C: Collection>(_ text: C, skippingWhitespace: Bool = false) -> [UInt8]?
    where C.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(text.count / 4 * 3 + 3)
        var acc: UInt32 = 0
        var bits = 0
        var padding = 0
        for c in text {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            if skippingWhitespace, c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { continue }
            // Data after padding is malformed.
            guard padding == 0, let v = value(c) else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        acc = 0
        // 6 leftover bits means one dangling character: not a valid encoding.
        if bits >= 6 || padding > 2 { return nil }
        return out
    }
}

/// Just enough DER to read and write the two key containers Airlock handles itself:
/// PKCS#8 `PrivateKeyInfo` / `OneAsymmetricKey` (RFC 5208, RFC 5958) and X.509
/// `SubjectPublicKeyInfo` (RFC 5280), for Ed25519 (RFC 8410) and for recognising other key types.
/// P-256 keys themselves are parsed by swift-crypto.
enum DER {
    static let sequence: UInt8 = 0x30
    static let integer: UInt8 = 0x02
    static let bitString: UInt8 = 0x03
    static let octetString: UInt8 = 0x04
    static let null: UInt8 = 0x05
    static let objectIdentifier: UInt8 = 0x06

    /// One tag-length-value element; `content` indexes into the buffer it was read from.
    struct Element {
        var tag: UInt8
        var content: Range<Int>
    }

    /// Reads consecutive elements from a byte range.
    struct Reader {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        init(_ bytes: [UInt8], range: Range<Int>? = nil) {
            self.bytes = bytes
            self.position = range?.lowerBound ?? 0
            self.end = range?.upperBound ?? bytes.count
        }

        var isAtEnd: Bool { position >= end }

        /// The next element's tag without consuming it.
        var peekTag: UInt8? { position < end ? bytes[position] : nil }

        /// Read one element (definite length, at most 4 length bytes).
        mutating func read() -> Element? {
            guard position + 2 <= end else { return nil }
            let tag = bytes[position]
            // Multi-byte tags never occur in these structures.
            guard tag & 0x1f != 0x1f else { return nil }
            var i = position + 1
            var length = Int(bytes[i])
            i += 1
            if length & 0x80 != 0 {
                let count = length & 0x7f
                guard count >= 1, count <= 4, i + count <= end else { return nil }
                length = 0
                for _ in 0..<count {
                    length = length << 8 | Int(bytes[i])
                    i += 1
                }
            }
            guard length >= 0, i + length <= end else { return nil }
            position = i + length
            return Element(tag: tag, content: i..<(i + length))
        }

        /// Read one element and require its tag.
        mutating func read(_ tag: UInt8) -> Element? {
            guard peekTag == tag else { return nil }
            return read()
        }
    }

    /// Encode one element.
    static func encode(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [tag]
        let n = content.count
        if n < 0x80 {
            out.append(UInt8(n))
        } else if n <= 0xff {
            out += [0x81, UInt8(n)]
        } else {
            out += [0x82, UInt8(n >> 8), UInt8(n & 0xff)]
        }
        return out + content
    }

    /// Dotted text of an encoded object identifier (`1.3.101.112`), for error messages.
    static func oidText(_ content: ArraySlice<UInt8>) -> String {
        var parts: [String] = []
        var value: UInt64 = 0
        var first = true
        for b in content {
            value = value << 7 | UInt64(b & 0x7f)
            if b & 0x80 == 0 {
                if first {
                    let head: UInt64 = value < 40 ? 0 : (value < 80 ? 1 : 2)
                    parts += [String(head), String(value - head * 40)]
                    first = false
                } else {
                    parts.append(String(value))
                }
                value = 0
            }
        }
        return parts.joined(separator: ".")
    }
}

/// Object identifiers Airlock recognises, as DER content bytes.
enum OID {
    /// 1.3.101.112 — Ed25519 (RFC 8410).
    static let ed25519: [UInt8] = [0x2b, 0x65, 0x70]
    /// 1.3.101.113 — Ed448.
    static let ed448: [UInt8] = [0x2b, 0x65, 0x71]
    /// 1.3.101.110 — X25519 (key agreement, not signing).
    static let x25519: [UInt8] = [0x2b, 0x65, 0x6e]
    /// 1.2.840.10045.2.1 — id-ecPublicKey.
    static let ecPublicKey: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
    /// 1.2.840.10045.3.1.7 — prime256v1 / secp256r1 / NIST P-256.
    static let prime256v1: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
    /// 1.3.132.0.34 — secp384r1 / P-384.
    static let secp384r1: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x22]
    /// 1.3.132.0.35 — secp521r1 / P-521.
    static let secp521r1: [UInt8] = [0x2b, 0x81, 0x04, 0x00, 0x23]
    /// 1.2.840.113549.1.1.1 — rsaEncryption.
    static let rsaEncryption: [UInt8] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01]
    /// 1.2.840.10040.4.1 — DSA.
    static let dsa: [UInt8] = [0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]

    /// A person-readable name for a key algorithm (and curve, when there is one).
    static func describe(algorithm: ArraySlice<UInt8>, curve: ArraySlice<UInt8>?) -> String {
        switch Array(algorithm) {
        case ed25519: return "an Ed25519 key"
        case ed448: return "an Ed448 key"
        case x25519: return "an X25519 key"
        case rsaEncryption: return "an RSA key"
        case dsa: return "a DSA key"
        case ecPublicKey:
            switch curve.map(Array.init) {
            case prime256v1?: return "an ECDSA P-256 key"
            case secp384r1?: return "an ECDSA P-384 key"
            case secp521r1?: return "an ECDSA P-521 key"
            case let c?: return "an EC key on curve \(DER.oidText(c[...]))"
            case nil: return "an EC key with no named curve"
            }
        default: return "a key of algorithm \(DER.oidText(algorithm))"
        }
    }
}

/// The AlgorithmIdentifier at the start of PKCS#8 and SPKI: the algorithm OID and, for EC keys,
/// the named-curve OID.
struct AlgorithmIdentifier {
    var algorithm: ArraySlice<UInt8>
    var curve: ArraySlice<UInt8>?

    /// Read `SEQUENCE { OID, parameters OPTIONAL }` from `reader`.
    static func read(from reader: inout DER.Reader) -> AlgorithmIdentifier? {
        guard let seq = reader.read(DER.sequence) else { return nil }
        var inner = DER.Reader(reader.bytes, range: seq.content)
        guard let oid = inner.read(DER.objectIdentifier) else { return nil }
        var curve: ArraySlice<UInt8>?
        if inner.peekTag == DER.objectIdentifier, let c = inner.read() { curve = reader.bytes[c.content] }
        return AlgorithmIdentifier(algorithm: reader.bytes[oid.content], curve: curve)
    }

    var isEd25519: Bool { Array(algorithm) == OID.ed25519 }
    var isP256: Bool { Array(algorithm) == OID.ecPublicKey && curve.map(Array.init) == OID.prime256v1 }
    var description: String { OID.describe(algorithm: algorithm, curve: curve) }
}

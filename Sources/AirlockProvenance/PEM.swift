import AirlockCore

/// A single PEM block (RFC 7468): its label (`PRIVATE KEY`, `PUBLIC KEY`, …) and decoded body.
/// Parsing works on bytes so that a private key's decoded DER lives in a buffer the caller zeroes.
struct PEMBlock {
    var label: String
    var der: [UInt8]

    enum Failure: Error {
        /// No `-----BEGIN …-----` line at all.
        case noPEM
        /// A BEGIN line without its END, or a body that is not base64.
        case malformed(label: String)
    }

    /// Labels of blocks that accompany a key but are not one (`openssl ecparam -genkey` writes
    /// EC PARAMETERS before the EC PRIVATE KEY).
    static let skippedLabels: Set<String> = ["EC PARAMETERS"]

    /// The first PEM block in `text` that is not in `skippedLabels`; text around blocks
    /// (OpenSSL's "explanatory text") is ignored.
    static func parse(_ text: [UInt8]) throws -> PEMBlock {
        var start = 0
        while true {
            let (block, end) = try parse(text, from: start)
            if !skippedLabels.contains(block.label) { return block }
            start = end
        }
    }

    /// The first block at or after `start`, and the index just past its END line.
    private static func parse(_ text: [UInt8], from start: Int) throws -> (PEMBlock, Int) {
        let begin = Array("-----BEGIN ".utf8)
        let dashes = Array("-----".utf8)
        guard let b = find(begin, in: text, from: start) else { throw Failure.noPEM }
        let labelStart = b + begin.count
        guard let labelEnd = find(dashes, in: text, from: labelStart) else { throw Failure.noPEM }
        let label = String(decoding: text[labelStart..<labelEnd], as: UTF8.self)
        let end = Array("-----END \(label)-----".utf8)
        let bodyStart = labelEnd + dashes.count
        guard let e = find(end, in: text, from: bodyStart) else { throw Failure.malformed(label: label) }
        // Headers (RFC 1421 `Proc-Type:` …, i.e. an encrypted legacy key) are not base64 and fail here.
        guard let der = Base64.decode(text[bodyStart..<e], skippingWhitespace: true), !der.isEmpty else {
            throw Failure.malformed(label: label)
        }
        // The caller owns `der` and zeroes it when it held a private key.
        return (PEMBlock(label: label, der: der), e + end.count)
    }

    /// Render DER as PEM with 64-character lines and a trailing newline.
    static func render(label: String, der: [UInt8]) -> String {
        var body = Array(Base64.encode(der).utf8)
        defer { zeroize(&body) }
        var out = "-----BEGIN \(label)-----\n"
        var i = 0
        while i < body.count {
            let j = min(i + 64, body.count)
            out += String(decoding: body[i..<j], as: UTF8.self) + "\n"
            i = j
        }
        out += "-----END \(label)-----\n"
        return out
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = start
        while i + needle.count <= haystack.count {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// The IEEE 802.3 CRC-32 (polynomial 0xEDB88320, reflected), the same value as zlib's `crc32`.
///
/// GitLab checks a finished job's trace against `crc32:<8 lowercase hex digits>`.
public func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc = CRC32()
    crc.update(bytes)
    return crc.value
}

/// An incremental CRC-32 (IEEE), for traces that arrive in pieces.
public struct CRC32: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    /// Feed more bytes.
    public mutating func update(_ bytes: some Sequence<UInt8>) {
        var c = state
        for byte in bytes {
            c = crc32Table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8)
        }
        state = c
    }

    /// The checksum of every byte fed so far.
    public var value: UInt32 { state ^ 0xFFFF_FFFF }
}

/// `crc32:` followed by the checksum as 8 lowercase hex digits, as GitLab expects it.
public func gitLabChecksum(_ bytes: [UInt8]) -> String {
    let hex = String(crc32(bytes), radix: 16)
    return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
}

private let crc32Table: [UInt32] = (0..<256).map { index in
    var c = UInt32(index)
    for _ in 0..<8 {
        c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
    }
    return c
}

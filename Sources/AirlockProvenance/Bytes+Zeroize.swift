import Foundation

/// Overwrite a buffer that held private key material, then empty it. Used on the intermediate
/// buffers this module owns (decoded PEM bodies, DER, raw seeds). The array's storage is freed
/// through the opaque `swift_release` runtime call, so the optimizer cannot prove these stores
/// dead and drop them.
func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices { buffer[i] = 0 }
    }
    bytes.removeAll(keepingCapacity: false)
}

/// Overwrite a `Data` this module created (e.g. read from a key file) that held private key
/// material. Never call it on a `Data` obtained from another library: swift-crypto's
/// `rawRepresentation` can alias the key's own storage, and zeroing it would destroy the key.
func zeroize(_ data: inout Data) {
    data.resetBytes(in: 0..<data.count)
    data.removeAll(keepingCapacity: false)
}

/// Lowercase hexadecimal, two digits a byte.
func hexString<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

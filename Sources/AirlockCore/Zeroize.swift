import Foundation

// Byte helpers for secret material: pure Swift, no kernel calls (PrivateFile, which writes such
// bytes to disk, is in AirlockOS).

/// Overwrites a buffer that held secret bytes, then empties it. The storage is released through
/// the opaque runtime, so the optimizer cannot prove the stores dead.
public func zeroize(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBufferPointer { buffer in
        for i in buffer.indices { buffer[i] = 0 }
    }
    bytes.removeAll(keepingCapacity: false)
}

/// Overwrites a `Data` the caller created, then empties it. Never call it on a `Data` obtained
/// from another library: swift-crypto's `rawRepresentation` can alias a key's own storage.
public func zeroize(_ data: inout Data) {
    data.resetBytes(in: 0..<data.count)
    data.removeAll(keepingCapacity: false)
}

/// `count` random bytes from the system generator, as lowercase hex.
public func randomHex(_ count: Int) -> String {
    var rng = SystemRandomNumberGenerator()
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    for _ in 0..<count {
        let b = UInt8.random(in: 0...255, using: &rng)
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

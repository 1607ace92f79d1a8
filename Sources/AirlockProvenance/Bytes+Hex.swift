import AirlockCore
import Foundation

// `zeroize` (for private key material this module owns) lives in AirlockCore/Zeroize.swift.

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

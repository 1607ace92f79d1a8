import Crypto
import Foundation

/// A public key that verifies provenance signatures: Ed25519 or ECDSA P-256.
///
/// Identified by `keyID`, the lowercase hex SHA-256 of its SubjectPublicKeyInfo DER — the value
/// written as `keyid` in DSSE envelopes signed by the matching private key.
public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
    // swift-crypto 3.x does not mark its key types Sendable. They are immutable after creation
    // and BoringSSL's signing and verifying functions take the key as `const`, so sharing one
    // across threads is safe.
    enum Storage: @unchecked Sendable {
        case ed25519(Curve25519.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
    }

    let storage: Storage

    /// The key's algorithm.
    public let algorithm: KeyAlgorithm

    /// The SubjectPublicKeyInfo DER encoding.
    public let derRepresentation: [UInt8]

    /// Lowercase hex SHA-256 of `derRepresentation`.
    public let keyID: String

    init(_ storage: Storage) {
        self.storage = storage
        switch storage {
        case let .ed25519(key):
            algorithm = .ed25519
            derRepresentation = PublicKey.ed25519SPKI(Array(key.rawRepresentation))
        case let .p256(key):
            algorithm = .ecdsaP256
            derRepresentation = Array(key.derRepresentation)
        }
        keyID = hexString(SHA256.hash(data: derRepresentation))
    }

    /// SPKI DER for a raw 32-byte Ed25519 public key (RFC 8410 §4).
    static func ed25519SPKI(_ raw: [UInt8]) -> [UInt8] {
        let algorithm = DER.encode(DER.sequence, DER.encode(DER.objectIdentifier, OID.ed25519))
        let bits = DER.encode(DER.bitString, [0] + raw)
        return DER.encode(DER.sequence, algorithm + bits)
    }

    /// The key as `-----BEGIN PUBLIC KEY-----` PEM (SPKI), with a trailing newline.
    public var pemRepresentation: String { PEMBlock.render(label: "PUBLIC KEY", der: derRepresentation) }

    /// Whether `signature` is a valid signature by this key over `message`.
    ///
    /// Ed25519: the 64-byte signature over `message`. ECDSA P-256: a signature over
    /// SHA-256(`message`), DER-encoded as Airlock writes it; a 64-byte raw `r ‖ s` signature
    /// (IEEE P1363, used by some DSSE implementations) is accepted too.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        switch storage {
        case let .ed25519(key):
            return signature.count == 64 && key.isValidSignature(signature, for: message)
        case let .p256(key):
            if let der = try? P256.Signing.ECDSASignature(derRepresentation: signature),
                key.isValidSignature(der, for: message)
            {
                return true
            }
            if signature.count == 64, let raw = try? P256.Signing.ECDSASignature(rawRepresentation: signature) {
                return key.isValidSignature(raw, for: message)
            }
            return false
        }
    }

    /// `ed25519 <keyid>` — never key material.
    public var description: String { "\(algorithm) public key \(keyID)" }

    /// Keys are equal when their SPKI DER is.
    public static func == (a: PublicKey, b: PublicKey) -> Bool { a.derRepresentation == b.derRepresentation }
    /// Hashes the SPKI DER.
    public func hash(into hasher: inout Hasher) { hasher.combine(derRepresentation) }
}

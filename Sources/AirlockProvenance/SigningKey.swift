import AirlockCore
import Crypto
import Foundation

/// A local private key that signs provenance: Ed25519 or ECDSA P-256.
///
/// Ed25519 signs the message itself; ECDSA P-256 signs SHA-256 of the message and returns a
/// DER-encoded signature. `description` and reflection never show key material.
public struct SigningKey: Signer, Sendable, CustomStringConvertible, CustomReflectable {
    // swift-crypto 3.x does not mark its key types Sendable. They are immutable after creation
    // and BoringSSL's signing and verifying functions take the key as `const`, so sharing one
    // across threads is safe.
    enum Storage: @unchecked Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
    }

    let storage: Storage

    /// The matching public key.
    public let publicKey: PublicKey

    init(_ storage: Storage) {
        self.storage = storage
        switch storage {
        case let .ed25519(key): publicKey = PublicKey(.ed25519(key.publicKey))
        case let .p256(key): publicKey = PublicKey(.p256(key.publicKey))
        }
    }

    /// A fresh random key from the system's secure random source.
    public static func generate(_ algorithm: KeyAlgorithm) -> SigningKey {
        switch algorithm {
        case .ed25519: return SigningKey(.ed25519(Curve25519.Signing.PrivateKey()))
        case .ecdsaP256: return SigningKey(.p256(P256.Signing.PrivateKey()))
        }
    }

    /// The key's algorithm.
    public var algorithm: KeyAlgorithm { publicKey.algorithm }

    /// The id of the public key (hex SHA-256 of its SPKI DER), written as the envelope's `keyid`.
    public var keyID: String { publicKey.keyID }

    /// Sign `message`: Ed25519 over the bytes, or ECDSA P-256 over their SHA-256 (DER signature).
    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        do {
            switch storage {
            case let .ed25519(key): return Array(try key.signature(for: message))
            case let .p256(key): return Array(try key.signature(for: message).derRepresentation)
            }
        } catch {
            throw AirlockError(
                .signingFailed, "signing with \(algorithm) key \(keyID) failed",
                hint: "the key may be corrupt; create a new one with `airlock keys generate`", cause: error)
        }
    }

    /// `ed25519 signing key <keyid>` — never key material.
    public var description: String { "\(algorithm) signing key \(keyID)" }

    /// Reflection (`dump`, debuggers) shows only the algorithm and key id.
    public var customMirror: Mirror {
        Mirror(self, children: ["algorithm": algorithm, "keyID": keyID], displayStyle: .struct)
    }
}

/// The signature algorithms Airlock signs provenance with.
///
/// - `ed25519`: pure Ed25519 (RFC 8032) over the DSSE PAE bytes; 64-byte signatures.
/// - `ecdsaP256`: ECDSA on NIST P-256 over SHA-256 of the PAE bytes; DER-encoded signatures
///   (`SEQUENCE { r INTEGER, s INTEGER }`), as in-toto, cosign and securesystemslib expect.
public enum KeyAlgorithm: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case ed25519
    case ecdsaP256 = "ecdsa-p256"

    /// The name used on the command line and in messages (`ed25519`, `ecdsa-p256`).
    public var description: String { rawValue }
}

/// Something that can sign DSSE pre-authentication-encoded bytes.
///
/// `SigningKey` is the local implementation. A remote signer — an OpenBao / Vault transit key,
/// a KMS, an HSM — implements this protocol by sending `message` to the service:
///
/// - `keyID` must be the key id verifiers will look for: the lowercase hex SHA-256 of the
///   public key's SubjectPublicKeyInfo DER (`PublicKey.keyID`). Fetch the transit key's public
///   PEM once, build a `PublicKey` from it and use its `keyID`.
/// - `sign(_:)` receives the complete PAE bytes (not a digest) and must return:
///   - for `.ed25519`: the 64-byte Ed25519 signature over `message`
///     (transit: `POST /transit/sign/<key>` with `input` = base64(message));
///   - for `.ecdsaP256`: an ECDSA P-256 signature over SHA-256(`message`), DER-encoded
///     (transit: `hash_algorithm=sha2-256`, `marshaling_algorithm=asn1`, `prehashed=false`).
///   Strip any service-specific prefix (transit's `vault:v1:`) and base64-decode before returning.
/// - Errors should be `AirlockError`s that name the service and key and say how to fix access.
/// - Conformers are `Sendable` (a remote signer holds immutable configuration and a client).
public protocol Signer: Sendable {
    /// The key id written into the envelope's `keyid` (hex SHA-256 of the SPKI DER).
    var keyID: String { get }
    /// The algorithm `sign(_:)` uses, which determines the signature encoding.
    var algorithm: KeyAlgorithm { get }
    /// Sign `message` (the DSSE PAE bytes) and return the raw signature bytes.
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

import AirlockCore

extension AirlockError.Code {
    /// A key file or PEM text that is not a usable Ed25519 / ECDSA P-256 key.
    public static let invalidKey: Self = "key.invalid"
    /// A public key where a private one is expected, or the other way round.
    public static let wrongKeyType: Self = "key.wrong-type"
    /// `KeyFiles.generate` would overwrite an existing key.
    public static let keyExists: Self = "key.exists"
    /// A signer failed to produce a signature.
    public static let signingFailed: Self = "signing-failed"
    /// Text that is not a DSSE envelope.
    public static let invalidEnvelope: Self = "dsse.invalid-envelope"
}

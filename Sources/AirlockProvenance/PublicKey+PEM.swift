import AirlockCore
import Crypto

extension PublicKey {
    /// Parse a `-----BEGIN PUBLIC KEY-----` PEM (X.509 SubjectPublicKeyInfo) holding an Ed25519
    /// or ECDSA P-256 key.
    ///
    /// Throws an `AirlockError` that says what the text is instead — a private key, an RSA or
    /// other unsupported key, or not PEM at all — and which key types are accepted.
    public init(pem: String) throws {
        try self.init(pemBytes: Array(pem.utf8), source: "the public key text")
    }

    /// Parse SubjectPublicKeyInfo DER holding an Ed25519 or ECDSA P-256 key.
    public init(derRepresentation der: [UInt8]) throws {
        try self.init(spki: der, source: "the public key DER")
    }

    /// `source` names the object in error messages ("the public key text", a file path).
    init(pemBytes: [UInt8], source: String) throws {
        let block: PEMBlock
        do {
            block = try PEMBlock.parse(pemBytes)
        } catch PEMBlock.Failure.noPEM {
            throw AirlockError(
                .invalidKey, "\(source) is not a PEM public key (no `-----BEGIN PUBLIC KEY-----` line)",
                hint: PublicKey.acceptedHint)
        } catch {
            throw AirlockError(
                .invalidKey, "\(source) is not valid PEM (a BEGIN line without its END, or a body that is not base64)",
                hint: PublicKey.acceptedHint)
        }
        switch block.label {
        case "PUBLIC KEY":
            try self.init(spki: block.der, source: source)
        case "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "OPENSSH PRIVATE KEY":
            var der = block.der
            zeroize(&der)
            throw AirlockError(
                .wrongKeyType,
                "\(source) holds a private key (`-----BEGIN \(block.label)-----`); expected a public key "
                    + "(`-----BEGIN PUBLIC KEY-----`)",
                hint: "pass the public half (signing.pub next to signing.key); never hand out the private key")
        case "RSA PUBLIC KEY":
            throw AirlockError(
                .invalidKey, "\(source) is an RSA public key; Airlock verifies Ed25519 and ECDSA P-256 keys only",
                hint: PublicKey.acceptedHint)
        case "CERTIFICATE":
            throw AirlockError(
                .invalidKey, "\(source) is an X.509 certificate, not a bare public key",
                hint: "extract the key with `openssl x509 -pubkey -noout -in CERT`; it must be Ed25519 or ECDSA P-256")
        default:
            throw AirlockError(
                .invalidKey, "\(source) holds a PEM block of type `\(block.label)`; expected `PUBLIC KEY`",
                hint: PublicKey.acceptedHint)
        }
    }

    /// Parse SPKI DER: `SEQUENCE { AlgorithmIdentifier, BIT STRING }`.
    init(spki der: [UInt8], source: String) throws {
        var outer = DER.Reader(der)
        guard let seq = outer.read(DER.sequence), outer.isAtEnd else {
            throw AirlockError(
                .invalidKey, "\(source) is not a SubjectPublicKeyInfo structure", hint: PublicKey.acceptedHint)
        }
        var reader = DER.Reader(der, range: seq.content)
        guard let alg = AlgorithmIdentifier.read(from: &reader), let bits = reader.read(DER.bitString) else {
            throw AirlockError(
                .invalidKey, "\(source) is not a SubjectPublicKeyInfo structure", hint: PublicKey.acceptedHint)
        }
        if alg.isEd25519 {
            let key = der[bits.content]
            guard key.count == 33, key.first == 0,
                let pub = try? Curve25519.Signing.PublicKey(rawRepresentation: key.dropFirst())
            else {
                throw AirlockError(
                    .invalidKey, "\(source) is a malformed Ed25519 public key (expected 32 key bytes)",
                    hint: PublicKey.acceptedHint)
            }
            self.init(.ed25519(pub))
        } else if alg.isP256 {
            guard let pub = try? P256.Signing.PublicKey(derRepresentation: der) else {
                throw AirlockError(
                    .invalidKey, "\(source) is a malformed ECDSA P-256 public key (not a point on the curve)",
                    hint: PublicKey.acceptedHint)
            }
            self.init(.p256(pub))
        } else {
            throw AirlockError(
                .invalidKey,
                "\(source) is \(alg.description); Airlock verifies Ed25519 and ECDSA P-256 keys only",
                hint: PublicKey.acceptedHint)
        }
    }

    static let acceptedHint =
        "use an Ed25519 or ECDSA P-256 public key in SPKI PEM (`-----BEGIN PUBLIC KEY-----`), "
        + "such as signing.pub from `airlock keys generate`"
}

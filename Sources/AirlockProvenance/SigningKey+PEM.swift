import AirlockCore
import Crypto
import Foundation

extension SigningKey {
    /// Parse an unencrypted PKCS#8 private key (`-----BEGIN PRIVATE KEY-----`) holding an Ed25519
    /// or ECDSA P-256 key. A SEC1 `-----BEGIN EC PRIVATE KEY-----` P-256 key (what
    /// `openssl ecparam -genkey` writes) is accepted too.
    ///
    /// Throws an `AirlockError` naming what the text is instead (a public key, an RSA, encrypted
    /// or OpenSSH key, not PEM) and the accepted types. Decoded key bytes are zeroed after use.
    public init(pem: String) throws {
        var bytes = Array(pem.utf8)
        defer { zeroize(&bytes) }
        try self.init(pemBytes: bytes, source: "the private key text")
    }

    /// `source` names the object in error messages ("the private key text", a file path).
    init(pemBytes: [UInt8], source: String) throws {
        var block: PEMBlock
        do {
            block = try PEMBlock.parse(pemBytes)
        } catch PEMBlock.Failure.noPEM {
            throw AirlockError(
                .invalidKey, "\(source) is not a PEM private key (no `-----BEGIN PRIVATE KEY-----` line)",
                hint: SigningKey.acceptedHint)
        } catch {
            throw AirlockError(
                .invalidKey,
                "\(source) is not valid PEM (a BEGIN line without its END, or a body that is not base64)",
                hint: SigningKey.acceptedHint)
        }
        defer { zeroize(&block.der) }
        switch block.label {
        case "PRIVATE KEY":
            try self.init(pkcs8: block.der, source: source)
        case "EC PRIVATE KEY":
            guard let key = try? P256.Signing.PrivateKey(derRepresentation: block.der) else {
                throw AirlockError(
                    .invalidKey, "\(source) is an EC private key that is not a valid P-256 key",
                    hint: SigningKey.acceptedHint)
            }
            self.init(.p256(key))
        case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
            throw AirlockError(
                .wrongKeyType,
                "\(source) holds a public key (`-----BEGIN \(block.label)-----`); expected a private signing key "
                    + "(`-----BEGIN PRIVATE KEY-----`)",
                hint: "pass the private key (signing.key), not signing.pub; signing needs the private half")
        case "ENCRYPTED PRIVATE KEY":
            throw AirlockError(
                .invalidKey, "\(source) is an encrypted private key; Airlock reads unencrypted PKCS#8 keys",
                hint: "decrypt it with `openssl pkcs8 -in KEY -out signing.key` (keep it mode 0600), "
                    + "or create a key with `airlock keys generate`")
        case "RSA PRIVATE KEY":
            throw AirlockError(
                .invalidKey, "\(source) is an RSA private key; Airlock signs with Ed25519 or ECDSA P-256 only",
                hint: SigningKey.acceptedHint)
        case "OPENSSH PRIVATE KEY":
            throw AirlockError(
                .invalidKey, "\(source) is an OpenSSH private key; Airlock reads PKCS#8 PEM keys",
                hint: SigningKey.acceptedHint)
        default:
            throw AirlockError(
                .invalidKey, "\(source) holds a PEM block of type `\(block.label)`; expected `PRIVATE KEY`",
                hint: SigningKey.acceptedHint)
        }
    }

    /// Parse PKCS#8 DER: `SEQUENCE { version, AlgorithmIdentifier, OCTET STRING privateKey, … }`.
    init(pkcs8 der: [UInt8], source: String) throws {
        var outer = DER.Reader(der)
        guard let seq = outer.read(DER.sequence), outer.isAtEnd else {
            throw AirlockError(.invalidKey, "\(source) is not a PKCS#8 private key", hint: SigningKey.acceptedHint)
        }
        var reader = DER.Reader(der, range: seq.content)
        guard let version = reader.read(DER.integer), version.content.count == 1, der[version.content.lowerBound] <= 1,
            let alg = AlgorithmIdentifier.read(from: &reader),
            let privateKey = reader.read(DER.octetString)
        else {
            throw AirlockError(.invalidKey, "\(source) is not a PKCS#8 private key", hint: SigningKey.acceptedHint)
        }
        if alg.isEd25519 {
            // RFC 8410: the privateKey OCTET STRING wraps CurvePrivateKey, itself an OCTET STRING
            // holding the 32-byte seed. Optional attributes and public key after it are ignored.
            var inner = DER.Reader(der, range: privateKey.content)
            guard let seedElement = inner.read(DER.octetString), inner.isAtEnd, seedElement.content.count == 32 else {
                throw AirlockError(
                    .invalidKey, "\(source) is a malformed Ed25519 private key (expected a 32-byte seed)",
                    hint: SigningKey.acceptedHint)
            }
            var seed = Array(der[seedElement.content])
            defer { zeroize(&seed) }
            guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
                throw AirlockError(
                    .invalidKey, "\(source) is a malformed Ed25519 private key", hint: SigningKey.acceptedHint)
            }
            self.init(.ed25519(key))
        } else if alg.isP256 {
            guard let key = try? P256.Signing.PrivateKey(derRepresentation: der) else {
                throw AirlockError(
                    .invalidKey, "\(source) is a malformed ECDSA P-256 private key", hint: SigningKey.acceptedHint)
            }
            self.init(.p256(key))
        } else {
            throw AirlockError(
                .invalidKey, "\(source) is \(alg.description); Airlock signs with Ed25519 or ECDSA P-256 keys only",
                hint: SigningKey.acceptedHint)
        }
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), with a trailing newline.
    /// Treat the result as secret: write it only to a 0600 file (see `KeyFiles`).
    public var pemRepresentation: String {
        switch storage {
        case let .ed25519(key):
            // Copy the seed out. Never zero `rawRepresentation` itself: swift-crypto may return
            // a `Data` that aliases the key's own storage, and zeroing it would destroy the key.
            var seed = [UInt8](key.rawRepresentation)
            // RFC 8410 OneAsymmetricKey v1: version 0, id-Ed25519, OCTET STRING { OCTET STRING seed }.
            var curvePrivateKey = DER.encode(DER.octetString, seed)
            zeroize(&seed)
            var wrapped = DER.encode(DER.octetString, curvePrivateKey)
            zeroize(&curvePrivateKey)
            let version = DER.encode(DER.integer, [0])
            let algorithm = DER.encode(DER.sequence, DER.encode(DER.objectIdentifier, OID.ed25519))
            var body = version + algorithm + wrapped
            zeroize(&wrapped)
            var der = DER.encode(DER.sequence, body)
            zeroize(&body)
            defer { zeroize(&der) }
            return PEMBlock.render(label: "PRIVATE KEY", der: der)
        case let .p256(key):
            let pem = key.pemRepresentation
            return pem.hasSuffix("\n") ? pem : pem + "\n"
        }
    }

    static let acceptedHint =
        "use an unencrypted PKCS#8 Ed25519 or ECDSA P-256 key (`-----BEGIN PRIVATE KEY-----`); "
        + "create one with `airlock keys generate`"
}

import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

@Suite("Keys")
struct KeyTests {
    static let rsaPublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDhVAnDVtTDX8rpC3g24J9KQq/s
        ynDqf4ev2yiHqWQuMnIEcpAzn3rmCuQnL82NQXMPA3R+ET9rdIuCwz1QBIGM9OMv
        1Y1lhvmRpES8Hsa64GoOEDc5vykpysTTHrg9br8M7YstLAq037XohznNZJzk/GxS
        disD2Pvo8NlSEeP0AwIDAQAB
        -----END PUBLIC KEY-----
        """

    static let p384PublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE7G6UJ/TTw1lIiZyeEAQ7GkgwIfhe2Y8D
        8NRnv1cZWKLS2ZZPNJIupw+nsMcu+FPAq2NVO9AJL1kOtsrMbXkQ200WYHX5yZCD
        4HkBJ3W0KNL8GKc77SQP7C93+lOmUg1e
        -----END PUBLIC KEY-----
        """

    static func airlockError(_ body: () throws -> Void) -> AirlockError? {
        do {
            try body()
            return nil
        } catch let e as AirlockError {
            return e
        } catch {
            return nil
        }
    }

    @Test(arguments: KeyAlgorithm.allCases)
    func privateAndPublicPEMRoundTrip(_ algorithm: KeyAlgorithm) throws {
        let key = SigningKey.generate(algorithm)
        #expect(key.algorithm == algorithm)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(key.pemRepresentation.hasSuffix("-----END PRIVATE KEY-----\n"))
        let reloaded = try SigningKey(pem: key.pemRepresentation)
        #expect(reloaded.publicKey == key.publicKey)
        #expect(reloaded.keyID == key.keyID)
        #expect(reloaded.pemRepresentation == key.pemRepresentation)

        let pub = try PublicKey(pem: key.publicKey.pemRepresentation)
        #expect(pub == key.publicKey)
        #expect(pub.algorithm == algorithm)
        #expect(pub.pemRepresentation.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(pub.keyID.count == 64 && pub.keyID == pub.keyID.lowercased())

        let message = Array("DSSEv1 1 t 1 x".utf8)
        let signature = try reloaded.sign(message)
        #expect(pub.isValidSignature(signature, for: message))
        #expect(!pub.isValidSignature(signature, for: message + [0]))
        if algorithm == .ecdsaP256 { #expect(signature.first == 0x30) }  // DER SEQUENCE
        if algorithm == .ed25519 { #expect(signature.count == 64) }
    }

    /// The key id is SHA-256 over the SPKI DER (RFC 8032 test key 1).
    @Test func keyIDIsHexSHA256OfSPKI() throws {
        let key = try SigningKey(
            pem: TestSupport.ed25519PrivatePEM(
                seedHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(
            key.publicKey.pemRepresentation == """
                -----BEGIN PUBLIC KEY-----
                MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
                -----END PUBLIC KEY-----

                """)
        #expect(key.keyID == "06e3fd8fda29bb60ab59557de61edb0aecdb231134be30e75b455f8e1b792fa9")
        #expect(key.description == "ed25519 signing key \(key.keyID)")
        #expect(!String(reflecting: key).contains("9d61"))
    }

    /// `openssl ecparam -genkey` writes a SEC1 key after an EC PARAMETERS block; it loads.
    @Test func opensslStyleKeysLoad() throws {
        let sec1 = """
            -----BEGIN EC PARAMETERS-----
            BggqhkjOPQMBBw==
            -----END EC PARAMETERS-----
            -----BEGIN EC PRIVATE KEY-----
            MHcCAQEEIAKII2qPOsQzyqdELaaTH9qAUp5lGKQnmOJjP0JP4/dKoAoGCCqGSM49
            AwEHoUQDQgAEkRAw67SlAD3VaGYVMInuIl26TJJEdAknRH90xGTDjHS0aRwHHRwr
            M9OzBJEUi2ZJ4Rz2L+eh58K2wsjR6D1mww==
            -----END EC PRIVATE KEY-----
            """
        let key = try SigningKey(pem: sec1)
        #expect(key.algorithm == .ecdsaP256)
        #expect(key.keyID == "ce1f01df21a29862094d9e1be2e819829e535bda7027f5fcfab821933c9f22b4")
        // Re-exported as PKCS#8.
        #expect(try SigningKey(pem: key.pemRepresentation).keyID == key.keyID)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))

        let p256 = SigningKey.generate(.ecdsaP256)
        #expect(try SigningKey(pem: "explanatory text\n" + p256.pemRepresentation).keyID == p256.keyID)
    }

    @Test func publicKeyWhereAPrivateKeyIsExpected() {
        let key = SigningKey.generate(.ed25519)
        let e = Self.airlockError { _ = try SigningKey(pem: key.publicKey.pemRepresentation) }
        #expect(e?.code == .wrongKeyType)
        #expect(e?.message.contains("holds a public key") == true)
        #expect(e?.hint?.contains("signing.key") == true)
    }

    @Test func privateKeyWhereAPublicKeyIsExpected() {
        let key = SigningKey.generate(.ecdsaP256)
        let e = Self.airlockError { _ = try PublicKey(pem: key.pemRepresentation) }
        #expect(e?.code == .wrongKeyType)
        #expect(e?.message.contains("holds a private key") == true)
        // The error never echoes key material.
        #expect(e.map { !"\($0)".contains(key.pemRepresentation.split(separator: "\n")[1]) } == true)
    }

    @Test func garbageAndUnsupportedKeysNameTheAcceptedTypes() {
        let garbage = Self.airlockError { _ = try PublicKey(pem: "not a key at all") }
        #expect(garbage?.code == .invalidKey)
        #expect(garbage?.message.contains("not a PEM public key") == true)
        #expect(garbage?.hint?.contains("Ed25519 or ECDSA P-256") == true)

        let badBody = Self.airlockError {
            _ = try SigningKey(pem: "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n")
        }
        #expect(badBody?.message.contains("not valid PEM") == true)

        let notDER = Self.airlockError {
            _ = try PublicKey(pem: "-----BEGIN PUBLIC KEY-----\naGVsbG8=\n-----END PUBLIC KEY-----\n")
        }
        #expect(notDER?.message.contains("not a SubjectPublicKeyInfo") == true)

        let rsa = Self.airlockError { _ = try PublicKey(pem: Self.rsaPublicPEM) }
        #expect(rsa?.code == .invalidKey)
        #expect(rsa?.message == "the public key text is an RSA key; Airlock verifies Ed25519 and ECDSA P-256 keys only")

        let p384 = Self.airlockError { _ = try PublicKey(pem: Self.p384PublicPEM) }
        #expect(p384?.message.contains("an ECDSA P-384 key") == true)

        let encrypted = Self.airlockError {
            _ = try SigningKey(
                pem: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
        }
        #expect(encrypted?.message.contains("encrypted") == true)
    }

    @Test func keyFilesGenerateWritesPrivateKey0600InA0700Directory() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let dir = root.appendingPathComponent("state/keys").path
        let (privatePath, publicPath) = try KeyFiles.generate(algorithm: .ecdsaP256, directory: dir)
        #expect(privatePath == dir + "/signing.key")
        #expect(publicPath == dir + "/signing.pub")
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
        }
        #expect(try mode(dir) == 0o700)
        #expect(try mode(privatePath) == 0o600)
        #expect(try mode(publicPath) == 0o644)

        let key = try KeyFiles.loadPrivate(path: privatePath)
        let pub = try KeyFiles.loadPublic(path: publicPath)
        #expect(key.publicKey == pub)
        #expect(key.algorithm == .ecdsaP256)

        // Never overwrites.
        let again = Self.airlockError { try KeyFiles.generate(algorithm: .ed25519, directory: dir) }
        #expect(again?.code == .keyExists)
        #expect(try KeyFiles.loadPrivate(path: privatePath).keyID == key.keyID)
    }

    @Test func keyFilesLoadErrors() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let (privatePath, publicPath) = try KeyFiles.generate(algorithm: .ed25519, directory: root.path + "/k")

        let missing = Self.airlockError { _ = try KeyFiles.loadPrivate(path: root.path + "/nope.key") }
        #expect(missing?.code == .missingFile)
        #expect(missing?.message == "no signing key at \(root.path)/nope.key")
        #expect(missing?.hint == "create one with `airlock keys generate`")

        let publicAsPrivate = Self.airlockError { _ = try KeyFiles.loadPrivate(path: publicPath) }
        #expect(publicAsPrivate?.code == .wrongKeyType)
        #expect(publicAsPrivate?.message.hasPrefix(publicPath) == true)

        let privateAsPublic = Self.airlockError { _ = try KeyFiles.loadPublic(path: privatePath) }
        #expect(privateAsPublic?.code == .wrongKeyType)
        #expect(privateAsPublic?.message.hasPrefix(privatePath) == true)

        let directory = Self.airlockError { _ = try KeyFiles.loadPrivate(path: root.path) }
        #expect(directory?.message.contains("is a directory") == true)

        if getuid() != 0 {  // root reads anything
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: privatePath)
            let unreadable = Self.airlockError { _ = try KeyFiles.loadPrivate(path: privatePath) }
            #expect(unreadable?.message.contains("permission denied") == true)
        }
    }
}

import AirlockCore
import AirlockOS
import Foundation

/// The on-disk key pair: `signing.key` (PKCS#8 PEM, mode 0600) and `signing.pub` (SPKI PEM,
/// mode 0644) in a directory created mode 0700 — normally the keys directory under Airlock's
/// state directory, which no sandbox can see.
public enum KeyFiles {
    /// File name of the private key.
    public static let privateKeyName = "signing.key"
    /// File name of the public key.
    public static let publicKeyName = "signing.pub"

    /// Generate a key pair and write it to `directory` (created mode 0700, with parents, when
    /// missing). The private key file is created mode 0600 by `open(2)` itself, so it is never
    /// readable by anyone else, not even briefly. Refuses to overwrite an existing key.
    @discardableResult
    public static func generate(algorithm: KeyAlgorithm, directory: String) throws
        -> (privatePath: String, publicPath: String)
    {
        try makePrivateDirectory(directory)
        let dir = URL(fileURLWithPath: directory)
        let privatePath = dir.appendingPathComponent(privateKeyName).path
        let publicPath = dir.appendingPathComponent(publicKeyName).path
        for path in [privatePath, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw AirlockError(
                .keyExists, "a key already exists at \(path); not overwriting it",
                hint: "keep using it, or move \(privateKeyName) and \(publicKeyName) away first "
                    + "(anything signed with the old key then needs the old \(publicKeyName) to verify)")
        }
        let key = SigningKey.generate(algorithm)
        var privatePEM = Array(key.pemRepresentation.utf8)
        defer { zeroize(&privatePEM) }
        try PrivateFile.createNew(privatePath, contents: privatePEM, mode: 0o600)
        do {
            try PrivateFile.createNew(publicPath, contents: Array(key.publicKey.pemRepresentation.utf8), mode: 0o644)
        } catch {
            // Leave no half-written pair behind.
            try? FileManager.default.removeItem(atPath: privatePath)
            throw error
        }
        return (privatePath, publicPath)
    }

    /// Load the private signing key at `path`.
    ///
    /// Errors name the path: missing ("no signing key at …"), unreadable, a directory, not a key,
    /// or a public key where the private one is expected.
    public static func loadPrivate(path: String) throws -> SigningKey {
        var bytes = try read(
            path, what: "signing key",
            missingHint: "create one with `airlock keys generate`")
        defer { zeroize(&bytes) }
        return try SigningKey(pemBytes: bytes, source: path)
    }

    /// Load the public key at `path`.
    ///
    /// Errors name the path: missing, unreadable, a directory, not a key, or a private key where
    /// the public one is expected.
    public static func loadPublic(path: String) throws -> PublicKey {
        var bytes = try read(
            path, what: "public key",
            missingHint: "pass the signer's \(publicKeyName), or create a key pair with `airlock keys generate`")
        defer { zeroize(&bytes) }
        return try PublicKey(pemBytes: bytes, source: path)
    }

    /// Keys are small; anything larger is not a key file.
    static let maximumKeyFileSize = 64 * 1024

    static func read(_ path: String, what: String, missingHint: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw AirlockError(.missingFile, "no \(what) at \(path)", hint: missingHint)
        }
        if isDirectory.boolValue {
            throw AirlockError(
                .missingFile, "\(path) is a directory, not a \(what) file",
                hint: "pass the key file itself, e.g. \(path)/\(what == "public key" ? publicKeyName : privateKeyName)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw AirlockError(
                .missingFile, "cannot read the \(what) at \(path): permission denied",
                hint: "run as the user that owns it, or fix its ownership; keep a private key mode 0600")
        }
        var data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AirlockError(
                .missingFile, "cannot read the \(what) at \(path)",
                hint: "check that it is a regular, readable file", cause: error)
        }
        defer { zeroize(&data) }
        guard data.count <= maximumKeyFileSize else {
            throw AirlockError(
                .invalidKey, "\(path) is \(data.count) bytes, too large to be a \(what)",
                hint: "pass a PEM key file such as \(privateKeyName) or \(publicKeyName)")
        }
        return [UInt8](data)
    }

    /// mkdir -p with the last component created mode 0700. An existing directory is left as is.
    static func makePrivateDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw AirlockError(
                    .usage, "\(directory) exists and is not a directory", hint: "choose a directory for the keys")
            }
            return
        }
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw AirlockError(
                .missingFile, "cannot create the directory \(parent) for the keys",
                hint: "check the path and its permissions", cause: error)
        }
        try PrivateFile.ensureDirectory(directory, mode: 0o700)
    }
}

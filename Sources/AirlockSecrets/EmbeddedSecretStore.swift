import AirlockCore
import AirlockOS
import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded secret store: one encrypted file per secret in `<stateDir>/secrets/` (0700).
///
/// - `store.key`: 32 random bytes, created 0600 from the start on the first `put`; refused if
///   anyone but the owner can read it.
/// - `<name>.sealed`: `"ALSEAL1\n"` followed by the ChaCha20-Poly1305 combined box
///   (nonce ‖ ciphertext ‖ tag), with the secret's name as additional authenticated data — so a
///   file renamed or copied over another secret's file fails to open instead of delivering the
///   wrong value. 0600, replaced atomically.
///
/// No plaintext ever reaches the disk; plaintext buffers this type owns are zeroed after use.
/// Names follow the job rule `[A-Za-z_][A-Za-z0-9_.-]*` (so they are always safe file names).
public struct EmbeddedSecretStore: Sendable {
    /// `<stateDir>/secrets`.
    public let directory: String
    static let magic: [UInt8] = Array("ALSEAL1\n".utf8)
    static let keyFileName = "store.key"
    static let suffix = ".sealed"

    /// The store under `stateDir` (nothing is created until the first `put`).
    public init(stateDir: String) {
        directory = (stateDir as NSString).appendingPathComponent("secrets")
    }

    var keyPath: String { "\(directory)/\(Self.keyFileName)" }
    func path(for name: String) -> String { "\(directory)/\(name)\(Self.suffix)" }

    /// Stores `value` under `name`, replacing any previous value.
    /// - Throws: `AirlockError(.usage)` for an invalid name; `.secretStore` when the directory or
    ///   key cannot be created or read.
    public func put(name: String, value: SecretValue) throws {
        try Self.validate(name)
        try PrivateFile.ensureDirectory(directory, mode: 0o700)
        let key = try loadKey(create: true)
        let sealed: ChaChaPoly.SealedBox
        do {
            sealed = try value.withBytes { plaintext in
                try ChaChaPoly.seal(plaintext, using: key, authenticating: Array(name.utf8))
            }
        } catch {
            throw AirlockError(
                .secretStore, "could not encrypt secret '\(name)': \(error)",
                hint: "check the store key with `airlock secrets list`; a damaged key must be recreated")
        }
        try PrivateFile.replace(path(for: name), contents: Self.magic + Array(sealed.combined), mode: 0o600)
    }

    /// The value stored under `name`.
    /// - Throws: `AirlockError(.secretUnknown)` naming the secrets the store does hold and how to
    ///   add one; `.secretTampered` when the file fails authentication; `.secretStore` when the
    ///   key is missing, unreadable or has unsafe permissions.
    public func get(name: String) throws -> SecretValue {
        try Self.validate(name)
        let file = path(for: name)
        guard var sealedBytes = try PrivateFile.readIfExists(file) else { throw unknown(name) }
        defer { zeroize(&sealedBytes) }
        let key = try loadKey(create: false)
        let tampered = AirlockError(
            .secretTampered,
            "\(file): authentication failed — the sealed secret '\(name)' was corrupted, tampered with, or copied from another secret's file",
            hint:
                "store it again with 'airlock secrets put \(name)'; if nobody changed the file on purpose, treat the state directory as compromised"
        )
        guard sealedBytes.count >= Self.magic.count + 12 + 16, Array(sealedBytes.prefix(Self.magic.count)) == Self.magic
        else { throw tampered }
        do {
            let box = try ChaChaPoly.SealedBox(combined: sealedBytes[Self.magic.count...])
            var plain = try ChaChaPoly.open(box, using: key, authenticating: Array(name.utf8))
            defer { zeroize(&plain) }
            return SecretValue([UInt8](plain))
        } catch {
            throw tampered
        }
    }

    /// The names of the stored secrets, sorted.
    public func list() throws -> [String] {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return items.compactMap { item -> String? in
            guard item.hasSuffix(Self.suffix) else { return nil }
            let name = String(item.dropLast(Self.suffix.count))
            return Job.SecretEntry.isValidName(name) ? name : nil
        }.sorted()
    }

    /// Deletes the secret `name`.
    /// - Throws: `AirlockError(.secretUnknown)` when there is no such secret.
    public func remove(name: String) throws {
        try Self.validate(name)
        let file = path(for: name)
        guard unlink(file) == 0 else {
            if errno == ENOENT { throw unknown(name) }
            throw PrivateFile.failure("unlink", file, errno)
        }
        PrivateFile.syncDirectory(directory)
    }

    /// Throws `AirlockError(.usage)` unless `name` is a valid secret name.
    public static func validate(_ name: String) throws {
        guard Job.SecretEntry.isValidName(name) else {
            throw AirlockError(
                .usage, "'\(name)' is not a valid secret name",
                hint: "names start with a letter or '_' and contain only letters, digits, '_', '.' and '-'")
        }
    }

    func unknown(_ name: String) -> AirlockError {
        let names = (try? list()) ?? []
        var message = "no secret named '\(name)' in the embedded store (\(directory))"
        if let close = Suggest.closest(to: name, in: names) {
            message += " (did you mean '\(close)'?)"
        } else if names.isEmpty {
            message += "; the store is empty"
        } else {
            message += "; it holds: \(names.joined(separator: ", "))"
        }
        return AirlockError(.secretUnknown, message, hint: "add it with 'airlock secrets put \(name)'")
    }
}

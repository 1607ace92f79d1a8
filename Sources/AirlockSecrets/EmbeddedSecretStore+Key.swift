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

extension EmbeddedSecretStore {
    /// Reads `store.key`, creating it (32 random bytes, 0600 from the start) when `create` is set
    /// and it does not exist yet. Two processes racing to create it agree: `O_EXCL` lets one win
    /// and the other reads the winner's key.
    func loadKey(create: Bool) throws -> SymmetricKey {
        if create, PrivateFile.mode(keyPath) == nil {
            var fresh = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in fresh.indices { fresh[i] = UInt8.random(in: 0...255, using: &rng) }
            defer { zeroize(&fresh) }
            do {
                try PrivateFile.createNew(keyPath, contents: fresh, mode: 0o600)
            } catch {
                // Lost a race with another process: use its key. Anything else is an error.
                if PrivateFile.mode(keyPath) == nil { throw error }
            }
        }
        guard let mode = PrivateFile.mode(keyPath) else {
            throw AirlockError(
                .secretStore, "the embedded store's key \(keyPath) does not exist",
                hint:
                    "the sealed secrets cannot be opened without it; restore it from a backup, or remove \(directory) and put the secrets again"
            )
        }
        guard mode & 0o077 == 0 else {
            throw AirlockError(
                .secretStore,
                "the embedded store's key \(keyPath) is accessible by other users (mode \(String(mode, radix: 8)))",
                hint: "run 'chmod 600 \(keyPath)', and consider the stored secrets exposed")
        }
        let bytes: [UInt8]?
        do {
            bytes = try PrivateFile.readIfExists(keyPath)
        } catch let e as AirlockError {
            throw AirlockError(
                .secretStore, "cannot read the embedded store's key \(keyPath)", hint: e.hint, cause: e)
        }
        guard var key = bytes, key.count == 32 else {
            throw AirlockError(
                .secretStore, "the embedded store's key \(keyPath) is damaged (expected 32 bytes)",
                hint: "restore it from a backup, or remove \(directory) and put the secrets again")
        }
        defer { zeroize(&key) }
        return SymmetricKey(data: key)
    }
}

import AirlockCore
import AirlockProvenance
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock keys`: the runner's provenance signing key.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the key that signs provenance.",
        discussion: """
            The key pair lives in the runner's state directory (<state>/keys, mode 0700; the \
            private key 0600), which no sandbox can see. `airlock run` generates an Ed25519 key \
            on first use.
            """,
        subcommands: [Generate.self, Public.self])

    static func keyDirectory() throws -> String {
        try StateDirectory.resolve().path + "/keys"
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "generate", abstract: "Create a signing key pair.")

        @Option(help: "ed25519 (default) or ecdsa-p256 (DER signatures over SHA-256).")
        var type: String = "ed25519"

        func run() throws {
            do {
                guard let alg = KeyAlgorithm(rawValue: type) else {
                    throw AirlockError(
                        .usage, "--type '\(type)' is not a key type",
                        hint: "use one of: \(KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let made = try KeyFiles.generate(algorithm: alg, directory: try KeysCommand.keyDirectory())
                let key = try KeyFiles.loadPublic(path: made.publicPath)
                print("private key: \(made.privatePath)")
                print("public key:  \(made.publicPath)")
                print("key id:      \(key.keyID)")
            } catch {
                throw ExitCode(report(error))
            }
        }
    }

    struct Public: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "public", abstract: "Print the public key (PEM).")

        func run() throws {
            do {
                let path = try KeysCommand.keyDirectory() + "/" + KeyFiles.publicKeyName
                print(try KeyFiles.loadPublic(path: path).pemRepresentation, terminator: "")
            } catch {
                throw ExitCode(report(error))
            }
        }
    }
}

import AirlockCore
import AirlockSandbox
import AirlockSecrets
import ArgumentParser
import Foundation

/// `airlock secrets`: the embedded, encrypted secret store.
struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Manage the embedded secret store (used by `local:NAME` secrets).",
        discussion: """
            Values are encrypted at rest (ChaChaPoly, key file 0600) under <state>/secrets, which no \
            sandbox can see. Jobs name them in `secrets:` as `source: local:NAME`; each job gets \
            them as files in /run/secrets, masked in its log, for the job's lifetime only.
            """,
        subcommands: [Put.self, List.self, Remove.self])

    static func store() throws -> EmbeddedSecretStore {
        EmbeddedSecretStore(stateDir: try StateDirectory.resolve().path)
    }

    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "put", abstract: "Store a secret (from a file or stdin).")
        @Argument(help: "The secret's name.") var name: String
        @Option(name: .customLong("from-file"), help: "Read the value from this file instead of stdin.")
        var fromFile: String?

        func run() throws {
            do {
                let bytes: [UInt8]
                if let f = fromFile {
                    guard let d = FileManager.default.contents(atPath: f) else {
                        throw AirlockError(.missingFile, "cannot read '\(f)'")
                    }
                    bytes = [UInt8](d)
                } else {
                    if isatty(0) != 0 {
                        FileHandle.standardError.write(Data("value for \(name) (end with Ctrl-D): ".utf8))
                    }
                    bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
                }
                // A trailing newline from `echo` or a terminal is not part of the secret.
                var value = bytes
                if value.last == 0x0a { value.removeLast() }
                guard !value.isEmpty else { throw AirlockError(.usage, "the value for '\(name)' is empty") }
                try SecretsCommand.store().put(name: name, value: SecretValue(value))
                info("stored secret '\(name)'")
            } catch {
                throw ExitCode(report(error))
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "List secret names (never values).")
        func run() throws {
            do { for n in try SecretsCommand.store().list() { print(n) } } catch { throw ExitCode(report(error)) }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Delete a secret.")
        @Argument(help: "The secret's name.") var name: String
        func run() throws {
            do {
                try SecretsCommand.store().remove(name: name)
                info("removed secret '\(name)'")
            } catch {
                throw ExitCode(report(error))
            }
        }
    }
}

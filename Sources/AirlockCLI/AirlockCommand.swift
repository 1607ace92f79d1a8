import AirlockCore
import ArgumentParser

/// The `airlock` command: one subcommand type per verb.
public struct AirlockCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "airlock",
        abstract: "A sandboxed, ephemeral build runner for Linux.",
        // `airlock --version` prints it; the help lists the flag.
        version: AirlockVersion.current,
        subcommands: [
            ExecCommand.self, RunCommand.self, VerifyCommand.self, KeysCommand.self, SecretsCommand.self,
            AgentCommand.self, RegisterCommand.self, ProfileCommand.self,
        ])
    public init() {}
}

import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock profile`: test sandbox profiles the way code is tested.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Lint, test, record and explain sandbox profiles.",
        discussion: "See Profiles/README.md for the format and a walkthrough from recording to testing.",
        subcommands: [
            ProfileLintCommand.self, ProfileTestCommand.self, ProfileRecordCommand.self, ProfileExplainCommand.self,
        ])
}

/// Options shared by the profile subcommands that start sandboxes.
struct SandboxOptions: ParsableArguments {
    @Option(
        name: .customLong("bind"),
        help: ArgumentHelp("Extra bind SRC:DST[:ro|rw] (read-only by default).", valueName: "SRC:DST[:MODE]"))
    var binds: [String] = []

    @Option(help: "Host directory bound read-write at /workspace (default: a fresh, empty one).")
    var workspace: String?

    @Option(help: "Wall-clock limit per run (e.g. 30s, 5m).")
    var timeout: String?
}

/// One sandbox launch the way `airlock exec` does it: a uid slot, a lent or scratch workspace.
enum ProfileLaunch {
    static func run(
        sandbox: Sandbox, profile: Profile, command: [String], options: SandboxOptions,
        stdio: (Int32, Int32, Int32) = (0, 1, 2), extraBinds: [BindMount] = [],
        body: (SandboxSpec, SandboxIdentity) throws -> SandboxResult
    ) throws -> SandboxResult {
        let limits = ResourceLimits.resolve(
            profile: profile.limits,
            flags: .init(
                timeout: try options.timeout.map { t in try parseFlag(t, "--timeout") { try DurationParse.seconds($0) }
                }))
        let binds = try options.binds.map(ExecCommand.parseBind) + extraBinds
        let identity = try SandboxIdentity.acquire(state: sandbox.state)
        defer { identity.release() }
        var restore: () -> Void = {}
        var scratch: Workspace?
        let wsPath: String
        if let ws = options.workspace {
            wsPath = ws.hasPrefix("/") ? ws : FileManager.default.currentDirectoryPath + "/" + ws
            restore = try Workspace.lend(wsPath, to: identity)
        } else {
            scratch = try Workspace.create(state: sandbox.state, name: "profile", identity: identity)
            wsPath = scratch!.path
        }
        defer {
            restore()
            scratch?.remove()
        }
        let spec = SandboxSpec(
            profile: profile, command: command, workspace: wsPath, extraBinds: binds, limits: limits,
            workingDirectory: "/workspace", stdio: stdio)
        return try body(spec, identity)
    }
}

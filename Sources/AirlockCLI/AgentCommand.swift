import AirlockAgent
import AirlockCore
import AirlockProvenance
import AirlockSandbox
import AirlockSecrets
import ArgumentParser
import Foundation
import Logging

/// `airlock agent`: the long-running runner agent.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the runner agent: take jobs from a coordinator or a spool directory and run them sandboxed.",
        discussion: """
            Jobs come from the GitLab coordinator in the config (`airlock register` writes it) or \
            from a spool directory (--spool DIR: job files dropped in DIR/incoming, results in \
            DIR/done/<id>/). Each job runs in its own sandboxes, uid range and workspace; at most \
            --concurrency at once.

            Signals: SIGQUIT drains (running jobs finish, no new ones are taken, then the agent \
            exits 0); SIGTERM or SIGINT abort (running jobs are canceled: sandboxes killed, secrets \
            revoked, results reported; a second signal kills at once). After a crash, the next \
            start reports the jobs that were running as failed, revokes their leases and removes \
            their workspaces.
            """)

    @Option(help: "The agent config file (YAML).")
    var config: String?

    @Option(help: "Take jobs from this spool directory instead of a coordinator.")
    var spool: String?

    @Option(help: "Jobs run at once (default: the config's, else 1).")
    var concurrency: Int?

    @Option(help: "Serve /metrics and /healthz on HOST:PORT.")
    var metrics: String?

    @Option(
        name: .customLong("spool-profile"),
        help: "A profile spool jobs may name (repeatable; default: only the agent's default profile).")
    var spoolProfiles: [String] = []

    @Option(
        name: .customLong("spool-secret"),
        help: "A secret spool jobs may ask for: local:NAME or a vault source (repeatable; default: none).")
    var spoolSecrets: [String] = []

    @Option(help: "The agent's name (default: the config's, else the host name).")
    var name: String?

    @Option(name: .customLong("state-dir"), help: "State directory (default: $AIRLOCK_STATE_DIR or the usual one).")
    var stateDir: String?

    func run() throws {
        throw ExitCode(execute())
    }

    func execute() -> Int32 {
        do {
            var cfg = try config.map { try AgentConfig.load(path: $0) } ?? AgentConfig()
            if let spool { cfg.spool = spool; cfg.gitlab = nil }
            cfg.spoolProfiles += spoolProfiles
            cfg.spoolSecrets += spoolSecrets
            if let concurrency {
                guard (1...256).contains(concurrency) else {
                    throw AirlockError(.usage, "--concurrency must be between 1 and 256, not \(concurrency)")
                }
                cfg.concurrency = concurrency
            }
            if let metrics { _ = try parseHostPort(metrics); cfg.metrics = metrics }
            if let name { cfg.name = name }
            if let stateDir { cfg.stateDir = stateDir }
            guard cfg.spool != nil || cfg.gitlab != nil else {
                throw AirlockError(
                    .usage, "the agent has no job source",
                    hint: "pass --spool DIR, or --config FILE with a 'gitlab:' section (`airlock register` writes one)")
            }
            let runtime = try AgentRuntime(config: cfg)
            return runtime.serve()
        } catch {
            return report(error)
        }
    }
}

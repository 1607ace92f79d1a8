import AirlockAgent
import AirlockCore
import AirlockJob
import AirlockProvenance
import AirlockSandbox
import AirlockSecrets
import Foundation
import Logging

/// Everything `airlock agent` runs with, assembled from the config: the sandbox, the agent's
/// own directory (lock, in-flight journal, lease journal), secrets, the job source, signals and
/// the metrics endpoint.
final class AgentRuntime: @unchecked Sendable {
    let config: AgentConfig
    let sandbox: Sandbox
    let agentDir: String
    let lockFD: Int32
    var logger: Logger

    init(config: AgentConfig) throws {
        self.config = config
        var log = Logger(label: "airlock.agent")
        log[metadataKey: "agent"] = "\(config.name)"
        logger = log
        sandbox = try Sandbox.makeDefault(stateDirectory: config.stateDir)
        agentDir = try sandbox.state.ensure("agents/\(config.name)")
        // One process per agent name and state directory: the journals below are this agent's own.
        let lockPath = agentDir + "/agent.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AirlockError(
                .sandboxSetup, "cannot open the agent lock \(lockPath): \(String(cString: strerror(errno)))",
                hint: "check that the state directory is writable")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let owner = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            close(fd)
            throw AirlockError(
                .usage,
                "another agent named '\(config.name)' is running with this state directory (pid \(owner ?? "?"))",
                hint: "give each agent on a host its own name (--name or `name:` in the config)")
        }
        ftruncate(fd, 0)
        _ = "\(getpid())\n".withCString { write(fd, $0, strlen($0)) }
        lockFD = fd
    }

    deinit { close(lockFD) }

    /// Run until drained or aborted; returns the exit status.
    func serve() -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let status = ExitBox()
        Task {
            do { try await self.serveAsync() } catch {
                status.value = report(error)
            }
            done.signal()
        }
        done.wait()
        sandbox.close()
        return status.value
    }

    private func serveAsync() async throws {
        let secrets = try SecretsSetup.context(state: sandbox.state)
        defer { secrets.transport?.shutdown() }
        // This agent's leases live in its own journal, so replaying it never touches another
        // agent's (or `airlock run`'s) outstanding leases.
        // Inspect the toolchain (dpkg queries, for provenance) now rather than in the first job.
        Thread.detachNewThread { _ = ToolchainInspector.host }
        let metrics = AgentMetrics()
        let counted = { (b: any SecretBroker) -> any SecretBroker in CountingBroker(b) { metrics.leasesRevoked(1) } }
        var ctx = secrets.context
        ctx.journal = LeaseJournal(stateDir: agentDir)
        ctx.broker = counted(ctx.broker)
        SecretsSetup.replay(ctx, brokers: secrets.brokers.mapValues(counted))
        let executor = JobExecutor(
            sandbox: sandbox, secrets: ctx,
            attestation: AttestationOptions(
                keyDirectory: sandbox.state.path + "/keys",
                builderID: config.builderID ?? AttestationOptions.defaultBuilderID, keyAlgorithm: .ed25519),
            logLimit: config.logLimit,
            loadProfile: { name, dir in try ProfileSearch.load(name, relativeTo: dir) })
        let source = try makeSource(metrics: metrics)
        let agent = Agent(
            source: source, executor: executor, journal: try InFlightJournal(agentDirectory: agentDir),
            metrics: metrics, concurrency: config.concurrency, logger: logger)
        let recovered = await agent.recoverLeftovers()
        if recovered > 0 { logger.warning("reported \(recovered) job(s) left by a crashed agent as failed") }

        let signals = AgentSignals(agent: agent, sandbox: sandbox, logger: logger)
        defer { withExtendedLifetime(signals) {} }
        var server: Task<Void, Never>?
        if let m = config.metrics {
            let (host, port) = try parseHostPort(m)
            let log = logger
            server = Task {
                do {
                    try await MetricsServer.run(
                        host: host, port: port, metrics: metrics, health: { agent.health }, logger: log,
                        onBound: { log.info("metrics on http://\(host):\($0)/metrics") })
                } catch is CancellationError {
                } catch {
                    log.error("the metrics endpoint \(m) failed: \(error)")
                }
            }
        }
        await agent.run()
        server?.cancel()
        _ = await server?.value
    }

    func makeSource(metrics: AgentMetrics) throws -> any JobSource {
        if let spool = config.spool {
            let root = spool.hasPrefix("/") ? spool : FileManager.default.currentDirectoryPath + "/" + spool
            let policy = SpoolPolicy(
                profiles: Set(config.spoolProfiles.isEmpty ? [config.profile] : config.spoolProfiles),
                secrets: Set(config.spoolSecrets))
            return try SpoolSource(root: root, agentName: config.name, logger: logger, policy: policy)
        }
        if let gitlab = config.gitlab {
            return try GitLabSource(
                config: gitlab, agentName: config.name, defaultProfile: config.profile,
                buildsDir: agentDir + "/builds", traceLimit: Int(config.logLimit), metrics: metrics, logger: logger)
        }
        throw AirlockError(.usage, "no job source configured", hint: "pass --spool DIR or a config with 'gitlab:'")
    }
}

final class ExitBox: @unchecked Sendable {
    var value: Int32 = 0
}

/// SIGQUIT drains; SIGTERM/SIGINT abort (a second one kills every sandbox at once).
final class AgentSignals: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var aborts = 0

    init(agent: Agent, sandbox: Sandbox, logger: Logger) {
        for sig in [SIGQUIT, SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                guard let self else { return }
                if sig == SIGQUIT {
                    logger.notice("SIGQUIT: draining")
                    agent.drain()
                    return
                }
                if sig == SIGHUP { return }
                self.aborts += 1
                if self.aborts == 1 {
                    logger.notice("signal \(sig): aborting running jobs (again to kill them at once)")
                    agent.abort()
                } else {
                    sandbox.killAll()
                }
            }
            s.resume()
            sources.append(s)
        }
        signal(SIGPIPE, SIG_IGN)
    }
}

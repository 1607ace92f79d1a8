import AirlockCore
import AirlockJob
import AirlockSandbox
import AirlockSecrets
import Foundation
import Logging
import Synchronization

/// The long-running agent: takes jobs from one source, runs up to `concurrency` of them at once,
/// each in its own sandbox, uid range and workspace, and reports every result.
///
/// Life cycle: `recoverLeftovers()` once at start (jobs a crashed predecessor left running are
/// reported failed, their leases revoked), then `run()` until `drain()` (finish running jobs,
/// take no new ones — SIGQUIT) or `abort()` (cancel running jobs, full clean-up — SIGTERM/SIGINT).
public final class Agent: Sendable {
    public let source: any JobSource
    public let executor: JobExecutor
    public let journal: InFlightJournal
    public let metrics: AgentMetrics
    public let concurrency: Int
    let logger: Logger

    /// What other threads (signal handlers, the coordinator's cancel, `/healthz`) see.
    private struct State {
        var stopping: StopMode?
        var controls: [String: JobControl] = [:]
        var cancelPoll: (@Sendable () -> Void)?
        var lastSourceError: String?
        var lastSourceErrorAt: Date?
    }
    private let state = Mutex(State())

    enum StopMode { case drain, abort }

    public init(
        source: any JobSource, executor: JobExecutor, journal: InFlightJournal, metrics: AgentMetrics,
        concurrency: Int, logger: Logger
    ) {
        self.source = source
        self.executor = executor
        self.journal = journal
        self.metrics = metrics
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    /// Jobs running now.
    public var runningJobs: Int { state.withLock { $0.controls.count } }

    /// For `/healthz`: healthy unless the source has failed within the last minute.
    public var health: (ok: Bool, detail: String) {
        state.withLock { s in
            if let e = s.lastSourceError, let at = s.lastSourceErrorAt, Date().timeIntervalSince(at) < 60 {
                return (false, "unhealthy: \(source.kind) source: \(e)")
            }
            return (true, "ok: \(s.controls.count) job(s) running, source \(source.kind)")
        }
    }

    /// Report and clean up what a crashed agent left: jobs in the journal are reported failed to
    /// their source and forgotten. (Workspaces and cgroups of dead processes are removed by
    /// `Sandbox.makeDefault`; leases by the lease journal's replay, which the caller runs first.)
    public func recoverLeftovers() async -> Int {
        let left = journal.leftovers()
        for r in left {
            logger.warning(
                "found a job left running by an earlier agent; reporting it failed",
                metadata: ["job": "\(r.id)", "source": "\(r.source)", "pid": "\(r.agentPID)"])
            if r.source == source.kind { await source.recover(r) }
            journal.end(r.id)
        }
        return left.count
    }

    /// Take no new jobs; return from `run()` when the running ones are finished.
    public func drain() {
        let c = state.withLock { s in
            if s.stopping == nil { s.stopping = .drain }
            return s.cancelPoll
        }
        c?()
        logger.info("draining: finishing \(runningJobs) running job(s), taking no new ones")
    }

    /// Cancel every running job now (sandboxes killed, secrets revoked, results reported as
    /// canceled) and return from `run()` when they are cleaned up.
    public func abort() {
        let (c, all) = state.withLock { s in
            s.stopping = .abort
            return (s.cancelPoll, Array(s.controls.values))
        }
        c?()
        logger.warning("aborting \(all.count) running job(s)")
        all.forEach { $0.cancel(.abort) }
    }

    private var isStopping: Bool { state.withLock { $0.stopping != nil } }

    /// Serve until drained or aborted. Jobs run as child tasks of one task group, at most
    /// `concurrency` at a time: a job is claimed from the source only when a slot is free, and
    /// `run()` returns when the last running job has finished and reported.
    public func run() async {
        logger.info("agent started", metadata: ["source": "\(source.kind)", "concurrency": "\(concurrency)"])
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            var backoff = 1.0
            while !isStopping {
                if running == concurrency {
                    await group.next()
                    running -= 1
                    continue
                }
                let job: (any AgentJob)?
                do {
                    job = try await poll()
                    setSourceError(nil)
                    backoff = 1
                } catch {
                    if isStopping || error is CancellationError { continue }
                    setSourceError("\(error)")
                    let delay = backoff * Double.random(in: 0.8...1.2)
                    logger.error(
                        "job source failed; retrying in \(String(format: "%.1f", delay))s",
                        metadata: ["error": "\(error)"])
                    try? await Task.sleep(nanoseconds: UInt64(delay * 1e9))
                    backoff = min(backoff * 2, 60)
                    continue
                }
                guard let job else { continue }
                running += 1
                group.addTask { [self] in await self.runOne(job) }
            }
            await group.waitForAll()
        }
        logger.info("agent stopped")
    }

    /// The source's next job, in a task `drain()` and `abort()` can interrupt.
    private func poll() async throws -> (any AgentJob)? {
        let poll = Task { [source] in try await source.next() }
        if !setPoll({ poll.cancel() }) { poll.cancel() }
        return try await poll.value
    }

    /// Remember how to interrupt the current poll; false when the agent is already stopping.
    private func setPoll(_ cancel: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { s in
            s.cancelPoll = cancel
            return s.stopping == nil
        }
    }

    private func register(_ id: String, _ control: JobControl) -> Bool {
        state.withLock { s in
            s.controls[id] = control
            return s.stopping == .abort
        }
    }

    private func unregister(_ id: String) {
        state.withLock { $0.controls[id] = nil }
    }

    private func setSourceError(_ e: String?) {
        state.withLock { s in
            s.lastSourceError = e
            s.lastSourceErrorAt = e == nil ? nil : Date()
        }
    }

    func runOne(_ job: any AgentJob) async {
        let control = JobControl()
        var log = logger
        log[metadataKey: "job"] = "\(job.id)"
        do { try journal.begin(job.record) } catch {
            log.error("cannot record the job in the journal; running it anyway", metadata: ["error": "\(error)"])
        }
        if register(job.id, control) { control.cancel(.abort) }
        metrics.running.increment()
        log.info("job claimed")
        var outcome = await job.run(executor: executor, control: control)
        if outcome.setupSeconds == nil, let s = control.firstSandboxStart {
            outcome.setupSeconds = s.timeIntervalSince(job.claimedAt)
        }
        let duration = Date().timeIntervalSince(job.claimedAt)
        metrics.running.decrement()
        metrics.record(outcome, duration: duration)
        journal.end(job.id)
        unregister(job.id)
        log.info(
            "job finished",
            metadata: [
                "state": "\(outcome.state.rawValue)", "exit": "\(outcome.exitCode.map(String.init) ?? "-")",
                "seconds": "\(String(format: "%.3f", duration))",
                "setup_ms": "\(outcome.setupSeconds.map { String(format: "%.2f", $0 * 1000) } ?? "-")",
                "report_ms": "\(outcome.reportSeconds.map { String(format: "%.2f", $0 * 1000) } ?? "-")",
            ])
    }

    /// Cancel one job (the coordinator asked).
    public func cancel(jobID: String, _ how: JobControl.Cancellation) {
        state.withLock { $0.controls[jobID] }?.cancel(how)
    }
}

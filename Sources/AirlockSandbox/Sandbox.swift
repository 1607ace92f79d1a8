import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation
import Logging

/// Airlock's launch API: turns a `SandboxSpec` into a running, supervised, torn-down sandbox.
///
/// One `Sandbox` is shared by every launch of a runner: it holds the helper's path, the state
/// directory, the host's cgroup layout and the compiled seccomp programs.
public final class Sandbox: @unchecked Sendable {
    public let state: StateDirectory
    public let helperPath: String
    /// Compiled seccomp programs, also kept on disk under `<state>/cache/seccomp`.
    public let programs: SeccompProgramCache
    let plans = MountPlanCache()
    public var logger: Logger
    private let cgroupHost: Result<CgroupHost, OSError>
    private let active = ActiveSandboxes()
    /// `AIRLOCK_TRACE_TIMING=1` prints per-phase launch timings to stderr.
    static let traceTiming = ProcessInfo.processInfo.environment["AIRLOCK_TRACE_TIMING"] == "1"

    public init(state: StateDirectory, helperPath: String, logger: Logger = Logger(label: "airlock.sandbox")) {
        self.state = state
        self.helperPath = helperPath
        self.logger = logger
        programs = SeccompProgramCache(state: state)
        do {
            let host = try CgroupHost.detect()
            Self.removeStaleSlotCgroups(host)
            cgroupHost = .success(host)
        } catch let e as OSError {
            cgroupHost = .failure(e)
        } catch { cgroupHost = .failure(OSError("detect", "cgroups", errno: EINVAL)) }
    }

    /// A sandbox for this host with the default state directory and helper.
    /// Also removes what a killed runner left in the state directory (stale workspaces).
    /// `stateDirectory` overrides the usual state directory (see `StateDirectory.resolve`).
    public static func makeDefault(stateDirectory: String? = nil) throws -> Sandbox {
        do { try HostChecks.userNamespaces() } catch let e as OSError {
            throw AirlockError(
                .hostUnsupported,
                "this host cannot create sandboxes: \(e.call)(\(e.object)) would fail with \(e.errnoName)", hint: e.hint
            )
        }
        var env = ProcessInfo.processInfo.environment
        if let stateDirectory { env["AIRLOCK_STATE_DIR"] = stateDirectory }
        let state = try StateDirectory.resolve(environment: env)
        Workspace.removeStale(state: state)
        // `airlock run` and the agent describe the toolchain in provenance: keep that between runs.
        ToolchainInspector.cache(in: state)
        return Sandbox(state: state, helperPath: try HelperLocator.locate())
    }

    /// Run `spec` to completion. A non-zero exit of the command is a result, not an error;
    /// errors mean the sandbox could not be set up (and nothing was left behind).
    public func run(_ spec: SandboxSpec) async throws -> SandboxResult {
        try await withCheckedThrowingContinuation { cont in
            Thread.detachNewThread { [self] in
                cont.resume(with: Result { try self.runBlocking(spec) })
            }
        }
    }

    /// A uid slot's cgroup kept between launches, with what was last written to it.
    private final class PooledCgroup {
        let cgroup: JobCgroup
        var limits: CgroupLimits
        var counters: JobCgroup.Counters
        init(cgroup: JobCgroup, limits: CgroupLimits) {
            self.cgroup = cgroup
            self.limits = limits
            self.counters = cgroup.counters
        }
    }
    private var slotCgroups: [Int: PooledCgroup] = [:]
    private let slotLock = NSLock()

    /// The slot's cgroup, named for this process (`slot-N-p<pid>`) so no other runner writes to
    /// it between our launches: limits are rewritten only when they change, and counters are
    /// carried over instead of re-read.
    private func pooledCgroup(host: CgroupHost, slot: Int, limits: CgroupLimits) throws -> PooledCgroup {
        slotLock.lock()
        let existing = slotCgroups[slot]
        slotLock.unlock()
        if let p = existing {
            if p.limits != limits {
                try p.cgroup.apply(limits)
                p.limits = limits
            }
            return p
        }
        let cg = try JobCgroup.create(
            host: host, name: "slot-\(slot)-p\(getpid())", limits: limits, reuseExisting: true)
        let p = PooledCgroup(cgroup: cg, limits: limits)
        slotLock.lock()
        slotCgroups[slot] = p
        slotLock.unlock()
        return p
    }

    /// Remove per-slot cgroups left by runners that no longer exist (crashed, killed).
    private static func removeStaleSlotCgroups(_ host: CgroupHost) {
        let bases: [String]
        switch host {
        case .v2(let b): bases = [b]
        case .v1(let b): bases = Array(b.values)
        }
        for base in bases {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("slot-")
            {
                guard let r = name.range(of: "-p"), let pid = Int32(name[r.upperBound...]), kill(pid, 0) != 0,
                    errno == ESRCH
                else { continue }
                if let cg = try? JobCgroup.create(host: host, name: name, limits: CgroupLimits(), reuseExisting: true) {
                    cg.destroy()
                }
            }
        }
    }

    /// Remove the per-slot cgroups this Sandbox kept. Call when the runner is done (the CLI does
    /// on exit); also done on deinit.
    public func close() {
        slotLock.lock()
        let all = slotCgroups.values
        slotCgroups.removeAll()
        slotLock.unlock()
        for p in all { p.cgroup.destroy() }
    }

    deinit { close() }

    /// Forward a signal (SIGINT, SIGTERM…) to every running sandbox's job.
    public func signalAll(_ sig: Int32) { active.forEach { $0.signal(sig) } }

    /// Kill every running sandbox now; helpers that do not exit within 2 s are killed too.
    public func killAll() {
        active.forEach { $0.killSandbox() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 2) { [active] in active.forEach { $0.killHelper() } }
    }

    /// The blocking form of `run`, for callers that own a thread (benchmarks, the agent's pool).
    /// Pass `identity` to run several sandboxes as the same ids (the steps of one job), and
    /// `control` to let another thread cancel the launch (`cleanup`: a graceful cancel spares it).
    public func runBlocking(
        _ spec: SandboxSpec, identity given: SandboxIdentity? = nil, control: JobControl? = nil, cleanup: Bool = false
    ) throws -> SandboxResult {
        let start = DispatchTime.now()
        let program = try programs.program(for: spec.profile.seccomp, profileName: spec.profile.name)
        let identity = try given ?? SandboxIdentity.acquire(state: state)
        defer { if given == nil { identity.release() } }

        // Limits: a cgroup when the host allows it; rlimits only if the profile says so. In root
        // mode each uid slot keeps its cgroup for the life of this Sandbox (emptied and re-limited
        // per launch, removed by `close()`): creating memory cgroups is slow.
        var cgroup: JobCgroup?
        var pool: PooledCgroup?
        var rlimitsOnly = false
        let limits = CgroupLimits(memory: spec.limits.memory, pids: spec.limits.pids, cpus: spec.limits.cpus)
        switch cgroupHost {
        case .success(let host):
            do {
                if let slot = identity.slot {
                    pool = try pooledCgroup(host: host, slot: slot, limits: limits)
                    cgroup = pool?.cgroup
                } else {
                    cgroup = try JobCgroup.create(
                        host: host, name: "job-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", limits: limits)
                }
            } catch let e as OSError {
                throw AirlockError(.sandboxSetup, "cannot create the job cgroup: \(e)", hint: e.hint)
            }
        case .failure(let e):
            guard spec.profile.limits.cgroupFallback == .rlimits else {
                throw AirlockError(
                    .hostUnsupported,
                    "cgroups are not available to this user, so memory/pids/cpu limits cannot be enforced: \(e.call)(\(e.object)): \(e.reason)",
                    hint: e.hint)
            }
            rlimitsOnly = true
            logger.warning(
                "cgroups unavailable (\(e.object)); enforcing limits with rlimits only, as profile '\(spec.profile.name)' allows"
            )
        }
        let pooled = pool != nil
        let before = pool?.counters ?? cgroup?.counters
        defer {
            // Nothing outlives the launch: pooled cgroups are emptied, others removed.
            if pooled { cgroup?.drain(quick: true) } else { cgroup?.destroy() }
        }

        let tCgroup = DispatchTime.now()
        var config = HelperConfig(
            uidMap: identity.uidMap, gidMap: identity.gidMap, setupUID: identity.setupUID,
            setupGID: identity.setupGID, jobUID: SandboxIdentity.jobID, jobGID: SandboxIdentity.jobID,
            shareNetwork: spec.profile.network == .host, rootSize: spec.profile.filesystem.rootSize,
            hostname: spec.hostname,
            mounts: try plans.plan(spec: spec, identity: identity) + MountPlan.secrets(spec.secretFiles),
            readOnlyRoot: true, cgroupProcs: cgroup?.joinFiles(cpuLimited: spec.limits.cpus != nil).helper ?? [],
            rlimits: rlimits(spec.limits, rlimitsOnly: rlimitsOnly),
            workingDirectory: spec.workingDirectory, umask: 0o022, arguments: spec.command,
            environment: spec.fullEnvironment)
        config.cgroupSelf = cgroup?.joinFiles(cpuLimited: spec.limits.cpus != nil).selfJoin ?? []
        config.recording = spec.recording

        let tPlanned = DispatchTime.now()
        let helper: HelperProcess
        do {
            helper = try HelperProcess.spawn(
                helperPath: helperPath, config: config, program: program, programFD: try programs.memfd(for: program),
                stdio: spec.stdio)
        } catch let e as OSError {
            throw AirlockError(.sandboxSetup, "cannot start the sandbox helper: \(e)", hint: e.hint)
        }
        active.insert(helper)
        defer { active.remove(helper) }
        control?.attach(helper, cleanup: cleanup)
        defer { control?.detach(helper) }

        // The wall-clock limit kills the whole tree: the cgroup, and the helper (whose death
        // takes the sandbox's pid namespace with it).
        let timedOut = ManagedFlag()
        var timer: DispatchSourceTimer?
        if let t = spec.limits.timeout {
            let tm = DispatchSource.makeTimerSource(queue: .global())
            tm.schedule(deadline: .now() + t)
            tm.setEventHandler { [cgroup, active] in
                timedOut.set()
                helper.killSandbox()
                cgroup?.killAll()
                DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
                    if active.contains(helper) { helper.killHelper() }
                }
            }
            tm.resume()
            timer = tm
        }
        let tSpawned = DispatchTime.now()
        let outcome = helper.waitForExit()
        let tExited = DispatchTime.now()
        timer?.cancel()

        if let err = outcome.setupError {
            throw setupError(err, stage: err.stage ?? .config, spec: spec)
        }
        var result = SandboxResult(exitCode: outcome.exitCode, rlimitsOnly: rlimitsOnly)
        if timedOut.isSet {
            result.timedOut = true
            result.exitCode = 124
        }
        let tStats = DispatchTime.now()
        if let cg = cgroup, let before {
            let after = cg.counters
            pool?.counters = after
            result.oomKilled = after.oomKills > before.oomKills
            result.pidsLimitHit = after.pidsLimitHits > before.pidsLimitHits
            result.memoryPeak = cg.memoryPeak
            if pooled { cg.resetPeak() }
            result.leftoverProcesses = pooled ? cg.drain(quick: true) : cg.destroy()
            cgroup = nil
        }
        result.duration = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        if Sandbox.traceTiming {
            let ms = { (a: DispatchTime, b: DispatchTime) in Double(b.uptimeNanoseconds - a.uptimeNanoseconds) / 1e6 }
            FileHandle.standardError.write(
                Data(
                    String(
                        format: "[timing] cgroup+id %.2f, plan %.2f, spawn %.2f, run %.2f, teardown %.2f ms\n",
                        ms(start, tCgroup), ms(tCgroup, tPlanned), ms(tPlanned, tSpawned), ms(tSpawned, tExited),
                        ms(tExited, DispatchTime.now())
                    ).utf8))
            _ = tStats
        }
        return result
    }

    private func rlimits(_ l: SandboxSpec.Limits, rlimitsOnly: Bool) -> [(resource: Int32, soft: UInt64, hard: UInt64)]
    {
        var out: [(Int32, UInt64, UInt64)] = [(7 /* RLIMIT_NOFILE */, l.nofile, l.nofile)]
        if rlimitsOnly {
            // Weaker stand-ins: address space per process, processes per (host) uid.
            if let m = l.memory { out.append((9 /* RLIMIT_AS */, m, m)) }
            if let p = l.pids { out.append((6 /* RLIMIT_NPROC */, UInt64(p), UInt64(p))) }
        }
        return out.map { (resource: $0.0, soft: $0.1, hard: $0.2) }
    }

    private func setupError(_ r: HelperReport, stage: HelperStage, spec: SandboxSpec) -> AirlockError {
        let reason = String(cString: strerror(r.errno))
        let object = r.detail.isEmpty ? "" : " '\(r.detail)'"
        if stage == .exec {
            return AirlockError(
                .init("sandbox.exec"),
                "cannot run\(object) in the sandbox: \(reason) (\(Errno.name(r.errno)))",
                hint: stage.hint(errno: r.errno, detail: r.detail))
        }
        return AirlockError(
            .sandboxSetup,
            "sandbox setup failed while \(stage.name)\(object): \(reason) (\(Errno.name(r.errno)))",
            hint: stage.hint(errno: r.errno, detail: r.detail))
    }
}

/// A flag set from another thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// The helpers currently running, for signal forwarding and shutdown.
final class ActiveSandboxes: @unchecked Sendable {
    private let lock = NSLock()
    private var helpers: [ObjectIdentifier: HelperProcess] = [:]
    func insert(_ h: HelperProcess) { lock.lock(); helpers[ObjectIdentifier(h)] = h; lock.unlock() }
    func remove(_ h: HelperProcess) { lock.lock(); helpers[ObjectIdentifier(h)] = nil; lock.unlock() }
    func contains(_ h: HelperProcess) -> Bool {
        lock.lock(); defer { lock.unlock() }; return helpers[ObjectIdentifier(h)] != nil
    }
    func forEach(_ body: (HelperProcess) -> Void) {
        lock.lock()
        let all = Array(helpers.values)
        lock.unlock()
        all.forEach(body)
    }
}

import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation
import Logging
import Synchronization

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
    /// How long teardown waits before escalating (`GracePeriods`).
    public let grace: GracePeriods
    let cgroupHost: Result<CgroupHost, OSError>
    let active = ActiveSandboxes()
    /// `AIRLOCK_TRACE_TIMING=1` prints per-phase launch timings to stderr.
    static let traceTiming = ProcessInfo.processInfo.environment["AIRLOCK_TRACE_TIMING"] == "1"

    public init(
        state: StateDirectory, helperPath: String, logger: Logger = Logger(label: "airlock.sandbox"),
        grace: GracePeriods = .standard
    ) {
        self.state = state
        self.grace = grace
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
    final class PooledCgroup {
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
    func pooledCgroup(host: CgroupHost, slot: Int, limits: CgroupLimits) throws -> PooledCgroup {
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

    /// Kill every running sandbox now; helpers that do not exit within `grace.helperExit` are
    /// killed too.
    public func killAll() {
        active.forEach { $0.killSandbox() }
        DispatchQueue.global().asyncAfter(deadline: .now() + grace.helperExit) { [active] in
            active.forEach { $0.killHelper() }
        }
    }

    func rlimits(_ l: SandboxSpec.Limits, rlimitsOnly: Bool) -> [(resource: Int32, soft: UInt64, hard: UInt64)] {
        var out: [(Int32, UInt64, UInt64)] = [(7 /* RLIMIT_NOFILE */, l.nofile, l.nofile)]
        if rlimitsOnly {
            // Weaker stand-ins: address space per process, processes per (host) uid.
            if let m = l.memory { out.append((9 /* RLIMIT_AS */, m, m)) }
            if let p = l.pids { out.append((6 /* RLIMIT_NPROC */, UInt64(p), UInt64(p))) }
        }
        return out.map { (resource: $0.0, soft: $0.1, hard: $0.2) }
    }

    func setupError(_ r: HelperReport, stage: HelperStage, spec: SandboxSpec) -> AirlockError {
        let reason = String(cString: strerror(r.errno))
        let object = r.detail.isEmpty ? "" : " '\(r.detail)'"
        if stage == .exec {
            return AirlockError(
                .sandboxExec,
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
final class ManagedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// The helpers currently running, for signal forwarding and shutdown.
final class ActiveSandboxes: Sendable {
    private let helpers = Mutex<[ObjectIdentifier: HelperProcess]>([:])
    func insert(_ h: HelperProcess) { helpers.withLock { $0[ObjectIdentifier(h)] = h } }
    func remove(_ h: HelperProcess) { helpers.withLock { $0[ObjectIdentifier(h)] = nil } }
    func contains(_ h: HelperProcess) -> Bool { helpers.withLock { $0[ObjectIdentifier(h)] != nil } }
    func forEach(_ body: (HelperProcess) -> Void) {
        helpers.withLock { Array($0.values) }.forEach(body)
    }
}

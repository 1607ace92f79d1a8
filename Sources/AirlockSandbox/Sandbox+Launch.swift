import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation

/// One launch, as a list of named steps: limits (a cgroup, or rlimits where the profile allows),
/// the helper's config (the launch assembler), spawn, the wall-clock limit, wait, the result.
extension Sandbox {
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
        let limits = try launchLimits(spec, identity: identity)
        // Nothing outlives the launch: pooled cgroups are emptied, others removed.
        defer { limits.release() }

        let tCgroup = DispatchTime.now()
        let config = try assemble(spec, identity: identity, limits: limits)
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
        let timedOut = ManagedFlag()
        let timer = spec.limits.timeout.map { armTimeout($0, helper: helper, cgroup: limits.cgroup, flag: timedOut) }
        let tSpawned = DispatchTime.now()
        let outcome = helper.waitForExit()
        let tExited = DispatchTime.now()
        timer?.cancel()

        if let err = outcome.setupError {
            throw setupError(err, stage: err.stage ?? .config, spec: spec)
        }
        var result = SandboxResult(exitCode: outcome.exitCode, rlimitsOnly: limits.rlimitsOnly)
        if timedOut.isSet {
            result.timedOut = true
            result.exitCode = 124
        }
        limits.settle(&result)
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
        }
        return result
    }

    /// How one launch's limits are enforced: the slot's pooled cgroup (root mode), a cgroup of
    /// its own (rootless with a delegated cgroup), or rlimits only.
    final class LaunchLimits {
        private(set) var cgroup: JobCgroup?
        let pool: PooledCgroup?
        let rlimitsOnly: Bool
        let before: JobCgroup.Counters?

        init(cgroup: JobCgroup?, pool: PooledCgroup?, rlimitsOnly: Bool) {
            self.cgroup = cgroup
            self.pool = pool
            self.rlimitsOnly = rlimitsOnly
            self.before = pool?.counters ?? cgroup?.counters
        }

        /// The launch's accounting (OOM kills, pids limit hits, peak memory, leftovers); empties
        /// the cgroup.
        func settle(_ result: inout SandboxResult) {
            guard let cg = cgroup, let before else { return }
            let after = cg.counters
            pool?.counters = after
            result.oomKilled = after.oomKills > before.oomKills
            result.pidsLimitHit = after.pidsLimitHits > before.pidsLimitHits
            result.memoryPeak = cg.memoryPeak
            if pool != nil { cg.resetPeak() }
            result.leftoverProcesses = pool != nil ? cg.drain(quick: true) : cg.destroy()
            cgroup = nil
        }

        /// Empty a pooled cgroup, remove any other (when `settle` did not run).
        func release() {
            if pool != nil { cgroup?.drain(quick: true) } else { cgroup?.destroy() }
        }
    }

    /// Limits: a cgroup when the host allows it; rlimits only if the profile says so. In root
    /// mode each uid slot keeps its cgroup for the life of this Sandbox (emptied and re-limited
    /// per launch, removed by `close()`): creating memory cgroups is slow.
    func launchLimits(_ spec: SandboxSpec, identity: SandboxIdentity) throws -> LaunchLimits {
        let limits = CgroupLimits(memory: spec.limits.memory, pids: spec.limits.pids, cpus: spec.limits.cpus)
        switch cgroupHost {
        case .success(let host):
            do {
                if let slot = identity.slot {
                    let pool = try pooledCgroup(host: host, slot: slot, limits: limits)
                    return LaunchLimits(cgroup: pool.cgroup, pool: pool, rlimitsOnly: false)
                }
                let cg = try JobCgroup.create(
                    host: host, name: "job-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", limits: limits)
                return LaunchLimits(cgroup: cg, pool: nil, rlimitsOnly: false)
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
            logger.warning(
                "cgroups unavailable (\(e.object)); enforcing limits with rlimits only, as profile '\(spec.profile.name)' allows"
            )
            return LaunchLimits(cgroup: nil, pool: nil, rlimitsOnly: true)
        }
    }

    /// The launch assembler: a spec, its identity and its limits become the helper's config —
    /// ids and maps, the mount plan (profile, workspace, binds, secrets), cgroups to join,
    /// rlimits, argv and the environment. Every launch (jobs, `exec`, `profile test|record`)
    /// goes through here.
    func assemble(_ spec: SandboxSpec, identity: SandboxIdentity, limits: LaunchLimits) throws -> HelperConfig {
        let joins = limits.cgroup?.joinFiles(cpuLimited: spec.limits.cpus != nil)
        var config = HelperConfig(
            uidMap: identity.uidMap, gidMap: identity.gidMap, setupUID: identity.setupUID,
            setupGID: identity.setupGID, jobUID: SandboxIdentity.jobID, jobGID: SandboxIdentity.jobID,
            shareNetwork: spec.profile.network == .host, rootSize: spec.profile.filesystem.rootSize,
            hostname: spec.hostname,
            mounts: try plans.plan(spec: spec, identity: identity) + MountPlan.secrets(spec.secretFiles),
            readOnlyRoot: true, cgroupProcs: joins?.helper ?? [],
            rlimits: rlimits(spec.limits, rlimitsOnly: limits.rlimitsOnly),
            workingDirectory: spec.workingDirectory, umask: 0o022, arguments: spec.command,
            environment: spec.fullEnvironment)
        config.cgroupSelf = joins?.selfJoin ?? []
        config.recording = spec.recording
        return config
    }

    /// The wall-clock limit kills the whole tree: the cgroup, and the helper (whose death takes
    /// the sandbox's pid namespace with it); a helper still there 2 s later is killed too.
    func armTimeout(_ seconds: Double, helper: HelperProcess, cgroup: JobCgroup?, flag: ManagedFlag)
        -> DispatchSourceTimer
    {
        let tm = DispatchSource.makeTimerSource(queue: .global())
        tm.schedule(deadline: .now() + seconds)
        tm.setEventHandler { [active] in
            flag.set()
            helper.killSandbox()
            cgroup?.killAll()
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) {
                if active.contains(helper) { helper.killHelper() }
            }
        }
        tm.resume()
        return tm
    }
}

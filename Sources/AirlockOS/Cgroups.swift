import CAirlockShims
import Glibc

/// Requested cgroup limits for one job.
public struct CgroupLimits: Hashable, Sendable {
    public var memory: UInt64?
    public var pids: Int?
    public var cpus: Double?
    public init(memory: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil) {
        self.memory = memory
        self.pids = pids
        self.cpus = cpus
    }
}

/// The cgroup layout of this host, and where Airlock may create job cgroups.
public enum CgroupHost: Sendable, Equatable {
    /// Unified hierarchy (cgroup v2) with job cgroups under `base`.
    case v2(base: String)
    /// Legacy hierarchy: one directory per controller (memory, pids, cpu). No freezer: every job
    /// runs in its own pid namespace, so killing its init kills every process atomically.
    case v1(bases: [String: String])

    static let cgroup2Magic = 0x6367_7270
    static let cgroup1Magic = 0x0027_e0eb
    public static let v1Controllers = ["memory", "pids", "cpu"]

    /// Find the hierarchy and the directory Airlock uses: `airlock` as root, `airlock-<uid>` as
    /// an ordinary user (which an administrator must create and delegate). Throws with the
    /// commands to run when the directory is missing or not writable.
    public static func detect(root: String = "/sys/fs/cgroup", uid: uid_t = geteuid()) throws -> CgroupHost {
        let dirName = uid == 0 ? "airlock" : "airlock-\(uid)"
        if FileIO.filesystemType(root) == cgroup2Magic {
            let base = "\(root)/\(dirName)"
            if uid == 0 {
                try FileIO.makeDirectory(base)
                // Let job cgroups below `base` use these controllers (best effort per controller).
                for c in ["+memory", "+pids", "+cpu"] {
                    try? FileIO.write("\(root)/cgroup.subtree_control", c)
                    try? FileIO.write("\(base)/cgroup.subtree_control", c)
                }
            }
            guard FileIO.isWritable(base) else { throw notDelegated(uid: uid, paths: [base], v2: true) }
            return .v2(base: base)
        }
        var bases: [String: String] = [:]
        var missing: [String] = []
        for c in v1Controllers {
            let mount = "\(root)/\(c)"
            guard FileIO.filesystemType(mount) == cgroup1Magic else {
                throw OSError(
                    "statfs", mount, errno: ENOENT,
                    hint:
                        "the cgroup controller '\(c)' is not mounted; mount cgroup v2 at \(root) or the v1 '\(c)' controller"
                )
            }
            let base = "\(mount)/\(dirName)"
            if uid == 0 { try FileIO.makeDirectory(base) }
            if !FileIO.isWritable(base) { missing.append(base) }
            bases[c] = base
        }
        if !missing.isEmpty { throw notDelegated(uid: uid, paths: missing, v2: false) }
        return .v1(bases: bases)
    }

    static func notDelegated(uid: uid_t, paths: [String], v2: Bool) -> OSError {
        let cmds = paths.map { "mkdir -p \($0) && chown -R \(uid) \($0)" }.joined(separator: "; ")
        return OSError(
            "access", paths.joined(separator: ", "), errno: EACCES,
            hint: "cgroups are not delegated to uid \(uid). As root run: \(cmds)"
                + (v2 ? " (on systemd: `systemd-run --user --scope -p Delegate=yes airlock …`)" : "")
                + " — or use a profile with `limits.cgroupFallback: rlimits` to run with rlimits only")
    }
}

/// One job's cgroup (a directory per v1 controller, or one v2 directory), with limits applied.
/// Create with `JobCgroup.create`, and always `destroy()` it: that kills anything left inside.
public final class JobCgroup: @unchecked Sendable {
    public let host: CgroupHost
    public let name: String
    /// Directories of this job's cgroup, one per hierarchy.
    public let directories: [String]

    private init(host: CgroupHost, name: String, directories: [String]) {
        self.host = host
        self.name = name
        self.directories = directories
    }

    /// The `cgroup.procs` files listing the job's processes.
    public var procsFiles: [String] { directories.map { "\($0)/cgroup.procs" } }

    /// How the sandbox's init joins: (files the helper writes its pid to, files it writes "0" to
    /// itself). v1 uses self-migration through `tasks` (no RCU wait); v2 the helper's write.
    /// The cpu hierarchy is joined only when a CPU limit is set (each join costs a little).
    public func joinFiles(cpuLimited: Bool) -> (helper: [String], selfJoin: [String]) {
        switch host {
        case .v2: return (procsFiles, [])
        case .v1:
            let dirs = directories.filter { cpuLimited || !$0.contains("/cpu/") }
            return ([], dirs.map { "\($0)/tasks" })
        }
    }

    /// Create the job cgroup `name` and apply `limits`. With `reuseExisting`, an existing cgroup
    /// of that name (a runner's per-slot cgroup) is emptied and reused: creating and removing
    /// memory cgroups is a large share of a short launch.
    public static func create(host: CgroupHost, name: String, limits: CgroupLimits, reuseExisting: Bool = false) throws
        -> JobCgroup
    {
        let dirs: [String]
        switch host {
        case .v2(let base): dirs = ["\(base)/\(name)"]
        case .v1(let bases): dirs = CgroupHost.v1Controllers.map { "\(bases[$0]!)/\(name)" }
        }
        var made: [String] = []
        do {
            for d in dirs {
                if mkdir(d, 0o755) == 0 { made.append(d); continue }
                let e = airlock_errno()
                if e == EEXIST && reuseExisting { continue }
                throw OSError(
                    "mkdir", d, errno: e,
                    hint: e == EEXIST
                        ? "a job cgroup of this name exists: another job, or a leftover to remove with rmdir" : nil)
            }
        } catch {
            for d in made.reversed() { _ = rmdir(d) }
            throw error
        }
        let cg = JobCgroup(host: host, name: name, directories: dirs)
        if made.count < dirs.count { cg.drain() }
        do { try cg.apply(limits) } catch {
            cg.destroy()
            throw error
        }
        return cg
    }

    /// Write `limits`; a nil limit is written as "no limit", so a reused cgroup keeps nothing.
    public func apply(_ limits: CgroupLimits) throws {
        switch host {
        case .v2:
            let dir = directories[0]
            try FileIO.write("\(dir)/memory.max", limits.memory.map(String.init) ?? "max")
            if limits.memory != nil { try? FileIO.write("\(dir)/memory.swap.max", "0") }
            try FileIO.write("\(dir)/pids.max", limits.pids.map(String.init) ?? "max")
            try FileIO.write("\(dir)/cpu.max", limits.cpus.map { "\(Int($0 * 100_000)) 100000" } ?? "max 100000")
        case .v1:
            let dir = { (c: String) in self.directories.first { $0.contains("/\(c)/") }! }
            let mem = limits.memory.map(String.init) ?? "-1"
            // memsw must stay >= the memory limit: order the writes so neither is refused.
            let memsw = "\(dir("memory"))/memory.memsw.limit_in_bytes"
            let hasMemsw = FileIO.exists(memsw)
            if hasMemsw { try? FileIO.write(memsw, "-1") }
            try FileIO.write("\(dir("memory"))/memory.limit_in_bytes", mem)
            if hasMemsw { try? FileIO.write(memsw, mem) }
            try? FileIO.write("\(dir("memory"))/memory.max_usage_in_bytes", "0")
            try FileIO.write("\(dir("pids"))/pids.max", limits.pids.map(String.init) ?? "max")
            try FileIO.write("\(dir("cpu"))/cpu.cfs_period_us", "100000")
            try FileIO.write("\(dir("cpu"))/cpu.cfs_quota_us", limits.cpus.map { String(Int($0 * 100_000)) } ?? "-1")
        }
    }

    private static func makeFresh(_ dir: String) throws {
        if mkdir(dir, 0o755) != 0 {
            let e = airlock_errno()
            throw OSError(
                "mkdir", dir, errno: e,
                hint: e == EEXIST
                    ? "a job cgroup of this name exists: another job, or a leftover to remove with rmdir" : nil)
        }
    }

    /// Pids currently in the job's cgroup. The sandbox's init joins every hierarchy, so one is
    /// enough to see its processes; the others are checked when the first is empty.
    public func pids(allHierarchies: Bool = true) -> [Int32] {
        var out = Set<Int32>()
        for f in (allHierarchies ? procsFiles : Array(procsFiles.prefix(1))) {
            if !out.isEmpty { break }
            guard let text = try? FileIO.read(f) else { continue }
            for l in text.split(separator: "\n") { if let p = Int32(l) { out.insert(p) } }
        }
        return out.sorted()
    }

    /// SIGKILL every process in the cgroup. v2 uses `cgroup.kill`; v1 kills the listed pids (a
    /// fork racing the list is caught by the next round, and by the pid namespace's teardown).
    public func killAll() {
        switch host {
        case .v2:
            let killFile = "\(directories[0])/cgroup.kill"
            if FileIO.exists(killFile), (try? FileIO.write(killFile, "1")) != nil { return }
            for p in pids() { _ = kill(p, SIGKILL) }
        case .v1:
            for p in pids() { _ = kill(p, SIGKILL) }
        }
    }

    /// Kill what is left and wait (up to ~5 s) for the cgroup to empty.
    /// Returns the number of processes that had to be killed.
    /// `quick` checks one hierarchy only: enough after a launch, whose init joined them all
    /// before anything else ran.
    @discardableResult
    public func drain(quick: Bool = false) -> Int {
        var killed = 0
        for attempt in 0..<1000 {
            let left = pids(allHierarchies: !quick || attempt > 0)
            if left.isEmpty { break }
            if attempt == 0 { killed = left.count }
            killAll()
            usleep(5000)
        }
        return killed
    }

    /// `drain()`, then remove the cgroup. Returns the number of processes that had to be killed.
    @discardableResult
    public func destroy() -> Int {
        let killed = drain()
        for d in directories.reversed() {
            for _ in 0..<200 {
                if rmdir(d) == 0 || airlock_errno() == ENOENT { break }
                usleep(5000)
            }
        }
        return killed
    }

    /// Event counters, to compare before and after a launch in a reused cgroup.
    public struct Counters: Sendable, Equatable {
        public var oomKills: Int
        public var pidsLimitHits: Int
    }

    public var counters: Counters { Counters(oomKills: oomKills, pidsLimitHits: pidsLimitHits) }

    /// Number of OOM kills inside the job's cgroup.
    public var oomKills: Int {
        switch host {
        case .v2: return Self.field("oom_kill", in: "\(directories[0])/memory.events")
        case .v1:
            guard let m = directories.first(where: { $0.contains("/memory/") }) else { return 0 }
            return Self.field("oom_kill", in: "\(m)/memory.oom_control")
        }
    }

    /// Times a fork failed at the pids limit.
    public var pidsLimitHits: Int {
        let dir = directories.first(where: { $0.contains("/pids/") }) ?? directories[0]
        return Self.field("max", in: "\(dir)/pids.events")
    }

    /// Start a new peak-memory measurement (v1; v2's memory.peak is per cgroup lifetime).
    public func resetPeak() {
        if case .v1 = host, let m = directories.first(where: { $0.contains("/memory/") }) {
            try? FileIO.write("\(m)/memory.max_usage_in_bytes", "0")
        }
    }

    /// Peak memory use in bytes, when the kernel reports it.
    public var memoryPeak: UInt64? {
        switch host {
        case .v2: return (try? FileIO.read("\(directories[0])/memory.peak")).flatMap { UInt64($0.trimmingSpaces) }
        case .v1:
            guard let m = directories.first(where: { $0.contains("/memory/") }) else { return nil }
            return (try? FileIO.read("\(m)/memory.max_usage_in_bytes")).flatMap { UInt64($0.trimmingSpaces) }
        }
    }

    static func field(_ key: String, in path: String) -> Int {
        guard let text = try? FileIO.read(path) else { return 0 }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Int(parts[1]) ?? 0 }
        }
        return 0
    }
}

extension String {
    var trimmingSpaces: String {
        String(
            self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed()
        )
    }
}

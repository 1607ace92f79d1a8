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
    /// Legacy hierarchy: one directory per controller (memory, pids, cpu, freezer).
    case v1(bases: [String: String])

    static let cgroup2Magic = 0x6367_7270
    static let cgroup1Magic = 0x0027_e0eb
    public static let v1Controllers = ["memory", "pids", "cpu", "freezer"]

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
                throw OSError("statfs", mount, errno: ENOENT,
                    hint: "the cgroup controller '\(c)' is not mounted; mount cgroup v2 at \(root) or the v1 '\(c)' controller")
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
        return OSError("access", paths.joined(separator: ", "), errno: EACCES,
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
    public var joinFiles: (helper: [String], selfJoin: [String]) {
        switch host {
        case .v2: return (procsFiles, [])
        case .v1: return ([], directories.map { "\($0)/tasks" })
        }
    }

    public static func create(host: CgroupHost, name: String, limits: CgroupLimits) throws -> JobCgroup {
        switch host {
        case .v2(let base):
            let dir = "\(base)/\(name)"
            try makeFresh(dir)
            let cg = JobCgroup(host: host, name: name, directories: [dir])
            do {
                if let m = limits.memory {
                    try FileIO.write("\(dir)/memory.max", String(m))
                    try? FileIO.write("\(dir)/memory.swap.max", "0")
                }
                if let p = limits.pids { try FileIO.write("\(dir)/pids.max", String(p)) }
                if let c = limits.cpus { try FileIO.write("\(dir)/cpu.max", "\(Int(c * 100_000)) 100000") }
            } catch {
                cg.destroy()
                throw error
            }
            return cg
        case .v1(let bases):
            var dirs: [String] = []
            let cg: JobCgroup
            do {
                for c in CgroupHost.v1Controllers {
                    let dir = "\(bases[c]!)/\(name)"
                    try makeFresh(dir)
                    dirs.append(dir)
                }
                cg = JobCgroup(host: host, name: name, directories: dirs)
            } catch {
                for d in dirs { _ = rmdir(d) }
                throw error
            }
            do {
                let dir = { (c: String) in "\(bases[c]!)/\(name)" }
                if let m = limits.memory {
                    try FileIO.write("\(dir("memory"))/memory.limit_in_bytes", String(m))
                    if FileIO.exists("\(dir("memory"))/memory.memsw.limit_in_bytes") {
                        try? FileIO.write("\(dir("memory"))/memory.memsw.limit_in_bytes", String(m))
                    }
                }
                if let p = limits.pids { try FileIO.write("\(dir("pids"))/pids.max", String(p)) }
                if let c = limits.cpus {
                    try FileIO.write("\(dir("cpu"))/cpu.cfs_period_us", "100000")
                    try FileIO.write("\(dir("cpu"))/cpu.cfs_quota_us", String(Int(c * 100_000)))
                }
            } catch {
                cg.destroy()
                throw error
            }
            return cg
        }
    }

    private static func makeFresh(_ dir: String) throws {
        if mkdir(dir, 0o755) != 0 {
            let e = airlock_errno()
            throw OSError("mkdir", dir, errno: e,
                hint: e == EEXIST ? "a job cgroup of this name exists: another job, or a leftover to remove with rmdir" : nil)
        }
    }

    /// Pids currently in the job's cgroup (all hierarchies).
    public func pids() -> [Int32] {
        var out = Set<Int32>()
        for f in procsFiles {
            guard let text = try? FileIO.read(f) else { continue }
            for l in text.split(separator: "\n") { if let p = Int32(l) { out.insert(p) } }
        }
        return out.sorted()
    }

    /// SIGKILL every process in the cgroup. v2 uses `cgroup.kill`; v1 freezes first so nothing
    /// can fork while the list is read, kills, then thaws so the kills are delivered.
    public func killAll() {
        switch host {
        case .v2:
            let killFile = "\(directories[0])/cgroup.kill"
            if FileIO.exists(killFile), (try? FileIO.write(killFile, "1")) != nil { return }
            for p in pids() { _ = kill(p, SIGKILL) }
        case .v1:
            let freezer = directories.first { $0.contains("/freezer/") }
            if let f = freezer { try? FileIO.write("\(f)/freezer.state", "FROZEN") }
            for p in pids() { _ = kill(p, SIGKILL) }
            if let f = freezer { try? FileIO.write("\(f)/freezer.state", "THAWED") }
        }
    }

    /// Kill what is left, wait (up to ~5 s) for the cgroup to empty, and remove it.
    /// Returns the number of processes that had to be killed.
    @discardableResult
    public func destroy() -> Int {
        var killed = 0
        for attempt in 0..<1000 {
            let left = pids()
            if left.isEmpty { break }
            if attempt == 0 { killed = left.count }
            killAll()
            usleep(5000)
        }
        for d in directories.reversed() {
            for _ in 0..<200 {
                if rmdir(d) == 0 || airlock_errno() == ENOENT { break }
                usleep(5000)
            }
        }
        return killed
    }

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
        String(self.drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}

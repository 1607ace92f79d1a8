import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation
import Synchronization

/// Turns a profile's filesystem section and a launch's workspace into the helper's ordered
/// mount list. Order: toolchain binds, extra binds, workspace, /tmp, HOME, /proc, /dev, /etc files.
enum MountPlan {
    static func build(spec: SandboxSpec, identity: SandboxIdentity) throws -> [HelperConfig.MountOp] {
        var ops: [HelperConfig.MountOp] = []
        let binds = spec.profile.filesystem.binds + spec.extraBinds
        let bindSources = binds.map(\.source)
        for b in binds {
            var st = stat()
            if lstat(b.source, &st) != 0 {
                if b.optional { continue }
                throw AirlockError(
                    .missingFile,
                    "bind source '\(b.source)' (profile '\(spec.profile.name)') does not exist on this host",
                    hint: "remove it from the profile, mark it `optional: true`, or fix the --bind path")
            }
            // A symlink into another bind (`/bin -> usr/bin` on merged-/usr hosts) is recreated
            // as the same symlink: cheaper than a mount, and the layout matches the host's.
            if (st.st_mode & S_IFMT) == S_IFLNK,
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: b.source),
                b.source == b.destination
            {
                let resolved =
                    target.hasPrefix("/")
                    ? target
                    : ((b.source as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
                let norm = (resolved as NSString).standardizingPath
                if bindSources.contains(where: { norm == $0 || norm.hasPrefix($0 + "/") }) {
                    ops.append(.symlink(target: target, path: b.destination))
                    continue
                }
            }
            ops.append(
                b.readOnly
                    ? .roBind(source: b.source, destination: b.destination)
                    : .rwBind(source: b.source, destination: b.destination))
        }
        let fs = spec.profile.filesystem
        let job = SandboxIdentity.jobID
        if let ws = spec.workspace {
            ops.append(.rwBind(source: ws, destination: "/workspace"))
        }
        ops.append(.tmpfs(path: "/tmp", size: fs.tmpSize, mode: 0o1777, uid: identity.setupUID, gid: identity.setupGID))
        ops.append(.tmpfs(path: "/home/build", size: fs.tmpSize, mode: 0o755, uid: job, gid: job))
        ops.append(.proc)
        ops.append(.dev(shmSize: min(fs.tmpSize, 64 << 20)))
        let boundPaths = Set(binds.map(\.destination))
        let files: [(String, String)] = [
            (
                "/etc/passwd",
                "root:x:0:0:root:/root:/bin/sh\nbuild:x:\(job):\(job):Airlock build:/home/build:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            ),
            ("/etc/group", "root:x:0:\nbuild:x:\(job):\nnogroup:x:65534:\n"),
            ("/etc/hostname", spec.hostname + "\n"),
            ("/etc/hosts", "127.0.0.1 localhost \(spec.hostname)\n::1 localhost ip6-localhost\n"),
        ]
        for (path, text) in files where !boundPaths.contains(path) {
            ops.append(.file(path: path, mode: 0o644, contents: text))
        }
        return ops
    }

    /// `/run/secrets`: a small tmpfs only the job's uid can read, one 0400 file per secret.
    static func secrets(_ files: [(name: String, contents: String)]) -> [HelperConfig.MountOp] {
        guard !files.isEmpty else { return [] }
        let job = SandboxIdentity.jobID
        let size = UInt64(files.reduce(0) { $0 + $1.contents.utf8.count }) + (64 << 10)
        var ops: [HelperConfig.MountOp] = [.tmpfs(path: "/run/secrets", size: size, mode: 0o500, uid: job, gid: job)]
        for f in files {
            ops.append(
                .ownedFile(path: "/run/secrets/" + f.name, mode: 0o400, uid: job, gid: job, contents: f.contents))
        }
        return ops
    }
}

/// Mount plans by what they depend on, so repeated launches of one profile skip the host lookups.
final class MountPlanCache: Sendable {
    private struct Key: Hashable {
        var filesystem: FilesystemSpec
        var extra: [BindMount]
        var workspace: String?
        var hostname: String
        var setupIDs: [UInt32]
    }
    private let plans = Mutex<[Key: [HelperConfig.MountOp]]>([:])

    func plan(spec: SandboxSpec, identity: SandboxIdentity) throws -> [HelperConfig.MountOp] {
        let key = Key(
            filesystem: spec.profile.filesystem, extra: spec.extraBinds, workspace: spec.workspace,
            hostname: spec.hostname, setupIDs: [identity.setupUID, identity.setupGID])
        if let p = plans.withLock({ $0[key] }) { return p }
        let p = try MountPlan.build(spec: spec, identity: identity)
        plans.withLock { plans in
            if plans.count > 64 { plans.removeAll() }
            plans[key] = p
        }
        return p
    }
}

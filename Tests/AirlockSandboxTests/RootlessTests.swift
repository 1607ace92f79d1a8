import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// Runs `airlock` as an unprivileged uid (65534), from copies of the binaries it can read.
    struct Unprivileged {
        let dir: String
        let uid = 65534
        init() throws {
            dir = "/tmp/airlock-rootless-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir + "/state", withIntermediateDirectories: true)
            for (src, name) in [
                (Host.airlock, "airlock"), (Host.helper, "airlock-helper"), (Host.probe, "airlock-probe"),
            ] {
                try FileManager.default.copyItem(atPath: src, toPath: "\(dir)/\(name)")
            }
            try FileManager.default.copyItem(atPath: Host.repoRoot + "/Profiles", toPath: dir + "/Profiles")
            _ = try Run.capture(["/bin/chmod", "-R", "a+rX", dir])
            _ = try Run.capture(["/bin/chown", "-R", "\(uid):\(uid)", dir + "/state"])
        }
        func delegateCgroups() throws {
            for c in ["memory", "pids", "cpu"] {
                let p = "/sys/fs/cgroup/\(c)/airlock-\(uid)"
                try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
                _ = try Run.capture(["/bin/chown", "-R", "\(uid):\(uid)", p])
            }
        }
        func undelegateCgroups() {
            for c in ["memory", "pids", "cpu"] { rmdir("/sys/fs/cgroup/\(c)/airlock-\(uid)") }
        }
        func exec(_ args: [String], options: [String] = []) throws -> RunResult {
            let env = [
                "PATH": "/usr/bin:/bin", "AIRLOCK_STATE_DIR": dir + "/state", "AIRLOCK_HELPER": dir + "/airlock-helper",
                "AIRLOCK_PROFILE_PATH": dir + "/Profiles", "HOME": "/nonexistent",
            ]
            return try Run.capture(
                [
                    "/usr/bin/setpriv", "--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "--",
                    dir + "/airlock", "exec", "--bind", "\(dir)/airlock-probe:/opt/probe:ro",
                ] + options + ["--"] + args,
                env: env, cwd: dir)
        }
        func cleanup() {
            undelegateCgroups()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test("rootless: the same `airlock exec` works for an unprivileged user with delegated cgroups")
    func rootlessExec() throws {
        let u = try Unprivileged()
        defer { u.cleanup() }
        try u.delegateCgroups()
        let r = try u.exec(["/opt/probe", "status"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("uid=1000 gid=1000"), "\(r.stdout)")
        let map =
            r.stdout.split(separator: "\n").first { $0.hasPrefix("uid_map:") }?.split(separator: " ").map(String.init)
            ?? []
        #expect(map == ["uid_map:", "1000", "65534", "1"], "\(r.stdout)")
        #expect(r.stdout.contains("Seccomp:\t2"))
        #expect(r.stdout.contains("CapEff:\t0000000000000000"))
        let attack = try u.exec(["/opt/probe", "unshare-user"])
        #expect(attack.status == 0, "\(attack.stdout)")
        let bomb = try u.exec(["/opt/probe", "forkbomb", "1000"], options: ["--pids", "32"])
        #expect(bomb.stdout.contains("then errno=11"), "\(bomb.stdout) \(bomb.stderr)")
        let code = try u.exec(["/bin/sh", "-c", "exit 3"])
        #expect(code.status == 3)
        // Nothing left in the delegated cgroups or the state directory's workspaces.
        for c in ["memory", "pids"] {
            let kids = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup/\(c)/airlock-65534")) ?? []
            #expect(!kids.contains { $0.hasPrefix("job-") }, "\(kids)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: u.dir + "/state/workspaces")) ?? []).isEmpty)
    }

    @Test("rootless without delegated cgroups: refused with how to delegate, exit 2")
    func rootlessNotDelegated() throws {
        let u = try Unprivileged()
        defer { u.cleanup() }
        u.undelegateCgroups()
        let r = try u.exec(["/bin/true"])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("not delegated") && r.stderr.contains("chown"), "\(r.stderr)")
        #expect(r.stderr.contains("cgroupFallback"), "\(r.stderr)")
    }
}

extension SandboxIntegration {
    @Test("rootless without delegated cgroups, profile allows rlimits: runs, says so, limits still bite")
    func rootlessRlimitsFallback() throws {
        let u = try Unprivileged()
        defer { u.cleanup() }
        u.undelegateCgroups()
        try """
        # Test profile: default, but allowed to run with rlimits when cgroups are not delegated.
        extends: default
        limits: {cgroupFallback: rlimits, pids: 64}
        """.write(toFile: u.dir + "/Profiles/rlimits.yaml", atomically: true, encoding: .utf8)
        _ = try Run.capture(["/bin/chmod", "a+r", u.dir + "/Profiles/rlimits.yaml"])
        let r = try u.exec(["/opt/probe", "status"], options: ["--profile", "rlimits"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("rlimits only"), "\(r.stderr)")
        #expect(r.stdout.contains("Seccomp:\t2"))
        let bomb = try u.exec(["/opt/probe", "forkbomb", "5000"], options: ["--profile", "rlimits"])
        #expect(bomb.stdout.contains("then errno=11"), "\(bomb.stdout)")
    }

    @Test("user namespaces disabled by the host: exit 2 naming the sysctl")
    func userNamespacesDisabled() throws {
        let s = TestState()
        // A user namespace of our own whose max_user_namespaces is 0: the host's sysctl stays as is.
        let r = try Run.capture(
            [
                "/usr/bin/unshare", "-U", "--map-root-user", "/bin/sh", "-c",
                "echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" exec -- /bin/true", Host.airlock,
            ],
            env: s.env)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("user.max_user_namespaces"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }
}

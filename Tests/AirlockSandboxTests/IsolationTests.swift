import AirlockTestSupport
import Foundation
import Testing

/// Every integration test runs in this one serialized suite, so the leftover checks after each
/// test cannot see another test's sandbox.
@Suite("sandbox integration (root)", .serialized, .needsRootSandbox, .hostExclusive)
struct SandboxIntegration {}

extension SandboxIntegration {
    @Test("inside: all capability sets are 0, NoNewPrivs 1, Seccomp 2, uid map is not host root")
    func credentials() throws {
        let s = TestState()
        let r = try s.probe("status")
        #expect(r.status == 0, "\(r.stderr)")
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(r.stdout.contains("\(set):\t0000000000000000"), "\(set) not zero:\n\(r.stdout)")
        }
        #expect(r.stdout.contains("NoNewPrivs:\t1"))
        #expect(r.stdout.contains("Seccomp:\t2"))
        #expect(r.stdout.contains("uid=1000 gid=1000"))
        // The uid map's host column must never be 0 (host root).
        let mapLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("uid_map:") }
        let fields = mapLine?.split(separator: " ").dropFirst().compactMap { Int($0) } ?? []
        #expect(fields.count == 3 && fields[1] >= 1_000_000, "uid map \(String(describing: mapLine))")
        Leftovers.expectNone(s)
    }

    @Test(
        "attacks fail inside the sandbox",
        arguments: [
            "unshare-user", "clone-newuser", "clone3", "mount", "keyctl", "perf", "userfaultfd", "io_uring",
            "personality", "vsock", "alg", "raw", "sethostname", "chroot",
        ])
    func attackBlocked(_ attack: String) throws {
        let s = TestState()
        let r = try s.probe(attack)
        #expect(r.status == 0 && r.stdout.hasPrefix("blocked \(attack)"), "\(attack): \(r.stdout) \(r.stderr)")
        Leftovers.expectNone(s)
    }

    @Test("clone3 is refused with ENOSYS so libc falls back to clone")
    func clone3ENOSYS() throws {
        let s = TestState()
        let r = try s.probe("clone3")
        #expect(r.stdout.contains("errno=38"), "\(r.stdout)")
    }

    @Test("ptrace of a host process fails (host pids are not even visible)")
    func ptraceHost() throws {
        let s = TestState()
        // A host process the sandbox must not reach.
        let victim = Process()
        victim.executableURL = URL(fileURLWithPath: "/bin/sleep")
        victim.arguments = ["30"]
        try victim.run()
        defer { victim.terminate(); victim.waitUntilExit() }
        let r = try s.probe("ptrace", String(victim.processIdentifier))
        #expect(r.status == 0 && r.stdout.hasPrefix("blocked ptrace"), "\(r.stdout)")
        let r1 = try s.probe("ptrace", "1")
        #expect(r1.status == 0 && r1.stdout.hasPrefix("blocked ptrace"), "\(r1.stdout)")
        let k = try s.probe("kill", String(victim.processIdentifier))
        #expect(k.status == 0, "signalling a host pid must fail: \(k.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("no network: a TCP connect to a host service on 127.0.0.1 fails")
    func hostLoopbackUnreachable() throws {
        let s = TestState()
        // A real listener on the host's loopback.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = listen(fd, 8)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let port = UInt16(bigEndian: addr.sin_port)
        // Control: the probe reaches it from the host.
        let control = try Run.capture([Host.probe, "connect", "127.0.0.1", String(port)])
        #expect(control.status == 1, "control connect should succeed on the host: \(control.stdout)")
        let r = try s.probe("connect", "127.0.0.1", String(port))
        #expect(r.status == 0 && r.stdout.hasPrefix("blocked connect"), "\(r.stdout)")
        // Only lo exists in the sandbox's network namespace.
        let links = try s.exec(["/bin/cat", "/proc/net/dev"], probe: false)
        let ifaces = links.stdout.split(separator: "\n").dropFirst(2).map {
            $0.split(separator: ":")[0].trimmingCharacters(in: .whitespaces)
        }
        #expect(ifaces == ["lo"], "\(links.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("host files outside the binds are absent; the root is read-only")
    func hostFilesAbsent() throws {
        let s = TestState()
        for path in [
            "/etc/shadow", "/root/.bashrc", "/var/lib/dpkg/status", "/sys/kernel/notes", "/boot",
            Host.repoRoot + "/Package.swift",
        ] {
            // Control: the file is there on the host, so a failure inside means it is absent there.
            if FileManager.default.fileExists(atPath: path) == false { continue }
            let r = try s.probe("read", path)
            #expect(r.status == 0, "\(path) readable inside: \(r.stdout)")
        }
        let ls = try s.exec(["/bin/ls", "/"], probe: false)
        let top = Set(ls.stdout.split(separator: "\n").map(String.init))
        #expect(
            top.isSubset(of: [
                "bin", "dev", "etc", "home", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr",
                "workspace", "opt",
            ]),
            "unexpected top-level entries: \(top)")
        #expect(!top.contains("sys") && !top.contains("root") && !top.contains("var"))
        let w = try s.probe("write", "/usr/airlock-escape")
        #expect(w.status == 0, "\(w.stdout)")
        let root = try s.probe("write", "/evil")
        #expect(root.status == 0, "\(root.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("/proc shows only the sandbox's processes")
    func procIsolated() throws {
        let s = TestState()
        let r = try s.probe("procs")
        let pids = r.stdout.split(separator: " ").dropFirst().compactMap {
            Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(pids.contains(1) && pids.count <= 3, "\(r.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("only fds 0-2 are inherited, even when the parent has others open")
    func fdHygiene() throws {
        let s = TestState()
        // Open descriptors without close-on-exec in this (parent) process; `airlock` inherits them.
        let leaked = [open("/etc/hostname", O_RDONLY), open("/", O_RDONLY | O_DIRECTORY), open("/dev/null", O_RDONLY)]
        defer { leaked.forEach { close($0) } }
        let r = try s.probe("fds")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "fds 0 1 2", "\(r.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("the parent's environment does not leak; the base environment is fixed")
    func environment() throws {
        let s = TestState()
        let r = try s.probe("env")
        #expect(!r.stdout.contains("must-not-leak"))
        #expect(!r.stdout.contains("AIRLOCK_STATE_DIR"))
        for kv in ["HOME=/home/build", "TZ=UTC", "LC_ALL=C.UTF-8", "USER=build"] {
            #expect(r.stdout.contains(kv), "missing \(kv): \(r.stdout)")
        }
        Leftovers.expectNone(s)
    }

    @Test("TIOCSTI cannot inject into a terminal")
    func tiocsti() throws {
        let s = TestState()
        // Run airlock under script(1) so it has a real controlling terminal, passed through as
        // the job's stdin: the injection must still fail.
        let cmd = [
            Host.airlock, "exec", "--bind", "\(Host.probe):/opt/probe/airlock-probe:ro", "--",
            "/opt/probe/airlock-probe", "tiocsti",
        ].joined(separator: " ")
        let r = try Run.capture(["/usr/bin/script", "-qec", cmd, "/dev/null"], env: s.env)
        #expect(r.status == 0 && r.stdout.contains("blocked tiocsti"), "\(r.stdout) \(r.stderr)")
        Leftovers.expectNone(s)
    }

    @Test("exit status is the command's; 128+N for a signal; 127 when it cannot be run")
    func exitStatus() throws {
        let s = TestState()
        #expect(try s.exec(["/bin/sh", "-c", "exit 7"], probe: false).status == 7)
        #expect(try s.exec(["/bin/sh", "-c", "kill -TERM $$"], probe: false).status == 128 + 15)
        let missing = try s.exec(["/no/such/tool"], probe: false)
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("/no/such/tool"), "\(missing.stderr)")
        Leftovers.expectNone(s)
    }
}

extension SandboxIntegration {
    static let dockerProfile = Host.repoRoot + "/.build/reference-profiles/docker-default.json"

    @Test(
        "Docker's default seccomp profile (OCI JSON) runs as-is and still blocks the attacks",
        .enabled(if: FileManager.default.fileExists(atPath: dockerProfile), "run scripts/fetch-reference-profiles.sh"))
    func dockerProfileRuns() throws {
        let s = TestState()
        let ok = try s.exec(
            ["/bin/sh", "-c", "echo built > /tmp/x && cat /tmp/x"], probe: false,
            options: ["--profile", Self.dockerProfile])
        #expect(ok.status == 0 && ok.stdout == "built\n", "\(ok.stdout) \(ok.stderr)")
        // (Docker's profile allows AF_VSOCK sockets; Airlock's default denies them.)
        for attack in ["unshare-user", "mount", "keyctl", "ptrace"] {
            let r = try s.probe(attack, options: ["--profile", Self.dockerProfile])
            #expect(r.status == 0 && r.stdout.hasPrefix("blocked"), "\(attack): \(r.stdout)")
        }
        Leftovers.expectNone(s)
    }

    @Test("the strict allow-list profile runs a shell and a C build")
    func strictProfile() throws {
        let s = TestState()
        let r = try s.exec(
            ["/bin/sh", "-c", "printf 'int main(void){return 0;}' > t.c && cc -o t t.c && ./t && echo strict-ok"],
            probe: false, options: ["--profile", "strict"])
        #expect(r.status == 0 && r.stdout.contains("strict-ok"), "\(r.stdout) \(r.stderr)")
        let denied = try s.probe("io_uring", options: ["--profile", "strict"])
        #expect(denied.status == 0, "\(denied.stdout)")
        Leftovers.expectNone(s)
    }
}

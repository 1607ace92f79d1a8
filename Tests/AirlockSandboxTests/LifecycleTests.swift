import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// Starts `airlock exec` in the background and returns it with its (live) output pipe.
    func background(_ args: [String], state s: TestState) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Host.airlock)
        p.arguments = ["exec", "--bind", "\(Host.probe):/opt/probe:ro"] + args
        p.environment = s.env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        return (p, out)
    }

    func waitForSandboxProcess(timeout: Double = 10) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if !Leftovers.sandboxProcesses().isEmpty { return true }
            usleep(20_000)
        }
        return false
    }

    @Test("the sandbox dies with its agent: SIGKILL of airlock kills the job (lifeline)")
    func lifeline() throws {
        let s = TestState()
        let (p, _) = try background(["--", "/opt/probe", "spawn-tree", "120"], state: s)
        #expect(waitForSandboxProcess(), "the sandbox did not start")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        // The helper sees its lifeline close and kills the sandbox.
        var procs = Leftovers.sandboxProcesses()
        for _ in 0..<100 where !procs.isEmpty {
            usleep(20_000)
            procs = Leftovers.sandboxProcesses()
        }
        #expect(procs.isEmpty, "sandbox processes outlived their agent: \(procs)")
        // What a SIGKILLed agent cannot clean up itself (its workspace, its slot cgroup) is
        // removed by the next runner: a later launch reaps the stale cgroup.
        _ = try s.exec(["/bin/true"], probe: false)
        #expect(Leftovers.cgroups().isEmpty, "\(Leftovers.cgroups())")
    }

    @Test("SIGINT to airlock is forwarded to the job, which can exit cleanly; nothing is left")
    func interrupt() throws {
        let s = TestState()
        let (p, out) = try background(
            ["--", "/bin/sh", "-c", "trap 'echo got-int; exit 42' INT; echo trap-set; while :; do sleep 0.1; done"],
            state: s)
        // Readiness: the job says when its trap is in place.
        #expect(readUntil(out.fileHandleForReading, line: "trap-set").contains("trap-set"))
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 42, "status \(p.terminationStatus)")
        Leftovers.expectNone(s)
    }

    @Test("concurrent sandboxes get distinct host uid ranges")
    func distinctRanges() throws {
        let s = TestState()
        let (a, aout) = try background(["--", "/bin/sh", "-c", "cat /proc/self/uid_map; sleep 2"], state: s)
        let (b, bout) = try background(["--", "/bin/sh", "-c", "cat /proc/self/uid_map; sleep 2"], state: s)
        a.waitUntilExit()
        b.waitUntilExit()
        let ma = String(decoding: aout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let mb = String(decoding: bout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let hostA = ma.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
        let hostB = mb.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
        #expect(hostA != nil && hostB != nil && hostA != hostB, "\(ma) / \(mb)")
        Leftovers.expectNone(s)
    }

    @Test("a lent --workspace is writable by the job and handed back to its owner")
    func lentWorkspace() throws {
        let s = TestState()
        let ws = s.dir + "/ws"
        try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
        try "input\n".write(toFile: ws + "/in.txt", atomically: true, encoding: .utf8)
        let r = try s.exec(
            ["/bin/sh", "-c", "cat in.txt && echo made > out.txt"], probe: false, options: ["--workspace", ws])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "input\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: ws + "/out.txt")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.intValue == 0, "out.txt should be handed back to root")
        Leftovers.expectNone(s)
    }

    @Test(
        "bad exec input: exit 2 with a message naming the problem",
        arguments: [
            (["--profile", "nope", "--", "/bin/true"], "nope"),
            (["--bind", "/does/not/exist:/x", "--", "/bin/true"], "/does/not/exist"),
            (["--bind", "/usr:/proc", "--", "/bin/true"], "managed by Airlock"),
            (["--timeout", "soon", "--", "/bin/true"], "--timeout"),
            (["--workspace", "/does/not/exist", "--", "/bin/true"], "/does/not/exist"),
            ([String](), "no command"),
        ])
    func badExec(_ args: [String], _ mentions: String) throws {
        let s = TestState()
        let r = try Run.capture([Host.airlock, "exec"] + args, env: s.env)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        Leftovers.expectNone(s)
    }
}

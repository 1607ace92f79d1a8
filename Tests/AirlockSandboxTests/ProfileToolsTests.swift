import AirlockTestSupport
import Foundation
import Testing

/// `airlock profile test | record | explain | lint` against real sandboxes (root suite).
extension SandboxIntegration {
    func profileCommand(_ s: TestState, _ args: [String], cwd: String? = nil) throws -> RunResult {
        var env = s.env
        env["AIRLOCK_PROBE"] = Host.probe
        return try Run.capture([Host.airlock, "profile"] + args, env: env, cwd: cwd)
    }

    @Test(
        "profile test: every shipped profile passes its case file, with JUnit output",
        arguments: ["default", "strict", "network-host"])
    func shippedCasesPass(_ name: String) throws {
        let s = TestState()
        let junit = s.dir + "/junit.xml"
        let r = try profileCommand(s, ["test", name, "--junit", junit])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 failed, 0 inconclusive, 0 errors"), "\(r.stdout)")
        let xml = (try? String(contentsOfFile: junit, encoding: .utf8)) ?? ""
        #expect(xml.contains("failures=\"0\" errors=\"0\""), "\(xml)")
        Leftovers.expectNone(s)
    }

    @Test("profile test: a planted wrong expectation fails, a failing control is inconclusive")
    func plantedFailures() throws {
        let s = TestState()
        let cases = s.dir + "/planted.yaml"
        try """
        binds: [{src: "${AIRLOCK_PROBE}", dst: /opt/probe/airlock-probe}]
        cases:
          - {name: wrong, run: [/opt/probe/airlock-probe, syscall, ptrace, 0], expect: allowed}
          - {name: control fails, run: cat /nonexistent, expect: denied, errno: ENOENT}
          - {name: right, run: [/opt/probe/airlock-probe, syscall, ptrace, 0], expect: denied, errno: EPERM}
          - {name: wrong errno, run: [/opt/probe/airlock-probe, syscall, ptrace, 0], expect: denied, errno: EACCES}

        """.write(toFile: cases, atomically: true, encoding: .utf8)
        let junit = s.dir + "/junit.xml"
        let r = try profileCommand(s, ["test", "default", "--cases", cases, "--junit", junit])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("FAIL") && $0.hasSuffix(" wrong") })
        #expect(lines.contains { $0.hasPrefix("INCONCLUSIVE") && $0.hasSuffix("control fails") })
        #expect(lines.contains { $0.hasPrefix("PASS") && $0.hasSuffix(" right") })
        #expect(lines.contains { $0.hasPrefix("FAIL") && $0.hasSuffix("wrong errno") })
        #expect(r.stdout.contains("4 cases: 1 passed, 2 failed, 1 inconclusive"))
        let xml = (try? String(contentsOfFile: junit, encoding: .utf8)) ?? ""
        #expect(xml.contains("tests=\"4\" failures=\"2\" errors=\"1\""), "\(xml)")
        Leftovers.expectNone(s)
    }

    @Test("profile test: a case file that runs a missing program is refused, naming file and line")
    func missingProgram() throws {
        let s = TestState()
        let cases = s.dir + "/missing.yaml"
        try "cases:\n  - {name: x, run: [no-such-tool, --version], expect: allowed}\n".write(
            toFile: cases, atomically: true, encoding: .utf8)
        let r = try profileCommand(s, ["test", "default", "--cases", cases])
        #expect(r.status == 2)
        #expect(r.stderr.contains("missing.yaml:2") && r.stderr.contains("no-such-tool"), "\(r.stderr)")
    }

    @Test("profile record: hello-c compile+link+run; the recorded profile builds it again and denies the rest")
    func recordHelloC() throws {
        let s = TestState()
        let build = "cc -O2 -Wall -o hello src/hello.c && ./hello"
        func workspace(_ name: String) throws -> String {
            let ws = s.dir + "/" + name
            try FileManager.default.createDirectory(atPath: ws, withIntermediateDirectories: true)
            _ = try Run.capture(["/bin/cp", "-r", Host.repoRoot + "/Examples/hello-c/src", ws + "/src"])
            return ws
        }
        let profile = s.dir + "/hello-build.yaml"
        let ws1 = try workspace("ws1")
        let rec = try profileCommand(
            s, ["record", "--out", profile, "--workspace", ws1, "--", "/bin/sh", "-c", build])
        #expect(rec.status == 0, "\(rec.stderr)")
        #expect(rec.stdout.contains("Hello from a binary built inside an Airlock sandbox."))
        let text = (try? String(contentsOfFile: profile, encoding: .utf8)) ?? ""
        #expect(text.contains("extends: \"default\"") && text.contains("defaultAction: errno"), "\(text)")
        #expect(text.contains("# command: /bin/sh -c 'cc -O2"))
        #expect(text.contains("execve") && text.contains("openat") && !text.contains("PARTIAL"))

        // The same build under the recorded profile: same output, and the binary runs.
        let ws2 = try workspace("ws2")
        let again = try s.exec(
            ["/bin/sh", "-c", build], probe: false, options: ["--profile", profile, "--workspace", ws2])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == rec.stdout)
        #expect(FileManager.default.isExecutableFile(atPath: ws2 + "/hello"))
        // Anything the build did not do is denied.
        for call in [
            ["ptrace", "0"], ["unshare", "0x10000000"], ["socket", "2", "1", "0"], ["socket", "1", "1", "0"],
        ] {
            let r = try s.exec(["/opt/probe/airlock-probe", "syscall"] + call, options: ["--profile", profile])
            #expect(r.status == 1 && r.stdout.contains("errno=1 "), "\(call): \(r.stdout) \(r.stderr)")
        }
        let lint = try profileCommand(s, ["lint", "--strict", profile])
        #expect(lint.status == 0, "\(lint.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("profile record: a failing command is reported, what was seen is written and marked PARTIAL; --merge unites")
    func recordFailureAndMerge() throws {
        let s = TestState()
        let a = s.dir + "/a.yaml"
        let r = try profileCommand(s, ["record", "--out", a, "--", "/bin/sh", "-c", "echo partial; exit 3"])
        #expect(r.status == 3)
        #expect(r.stderr.contains("failed (exit status 3)"), "\(r.stderr)")
        let text = (try? String(contentsOfFile: a, encoding: .utf8)) ?? ""
        #expect(text.contains("# PARTIAL: the command failed (exit status 3)") && text.contains("write"), "\(text)")
        let b = s.dir + "/b.yaml"
        #expect(try profileCommand(s, ["record", "--out", b, "--", "/bin/ls", "/"]).status == 0)
        let merged = s.dir + "/merged.yaml"
        let m = try profileCommand(s, ["record", "--out", merged, "--merge", a, "--merge", b])
        #expect(m.status == 0, "\(m.stderr)")
        let mt = (try? String(contentsOfFile: merged, encoding: .utf8)) ?? ""
        #expect(mt.contains("# command: /bin/sh -c 'echo partial; exit 3'") && mt.contains("# command: /bin/ls /"))
        #expect(mt.contains("getdents64"), "ls reads directories: \(mt)")
        let missing = try profileCommand(s, ["record", "--", "/no/such/program"])
        #expect(missing.status == 127, "\(missing.stderr)")
        let slow = s.dir + "/slow.yaml"
        let timedOut = try profileCommand(s, ["record", "--out", slow, "--timeout", "1s", "--", "/bin/sleep", "30"])
        #expect(timedOut.status == 124, "\(timedOut.stderr)")
        let st = (try? String(contentsOfFile: slow, encoding: .utf8)) ?? ""
        #expect(st.contains("# PARTIAL: the command timed out") && st.contains("clock_nanosleep"), "\(st)")
        Leftovers.expectNone(s)
    }

    @Test("profile explain: the compiled filter's decision matches the kernel's", arguments: ["default", "strict"])
    func explainMatchesKernel(_ profile: String) throws {
        let s = TestState()
        let samples: [[String]] = [
            ["getpid"], ["ptrace", "0"], ["unshare", "0x10000000"], ["clone", "0x10000011"], ["socket", "2", "1", "0"],
            ["socket", "1", "1", "0"], ["personality", "0"], ["personality", "0x400000"], ["keyctl", "0"],
            ["uname", "buf"], ["getuid"],
        ]
        for call in samples {
            // `buf` is a pointer in the probe; explain sees the argument, but no rule looks at it.
            let args = Array(call.dropFirst()).map { $0 == "buf" ? "0" : $0 }
            let e = try profileCommand(
                s, ["explain", profile, "--syscall", call[0]] + (args.isEmpty ? [] : ["--args"] + args))
            #expect(e.status == 0, "\(e.stderr)")
            let line = e.stdout.split(separator: "\n").first { $0.contains("] → ") }.map(String.init) ?? ""
            let k = try s.exec(["/opt/probe/airlock-probe", "syscall"] + call, options: ["--profile", profile])
            if line.hasSuffix("→ allow") {
                #expect(
                    !k.stdout.contains("errno=1 ") && !k.stdout.contains("errno=38 "),
                    "\(call): explain \(line), kernel \(k.stdout)")
            } else if let r = line.range(of: "→ errno ") {
                let n = line[r.upperBound...].split(separator: " ").first.map(String.init) ?? "?"
                #expect(k.stdout.contains("errno=\(n) "), "\(call): explain \(line), kernel \(k.stdout)")
            } else {
                Issue.record("unexpected explain output: \(e.stdout)")
            }
        }
        Leftovers.expectNone(s)
    }

    @Test(
        "Docker's default seccomp profile (OCI JSON) imports, lints and passes its cases",
        .enabled(
            if: FileManager.default.fileExists(
                atPath: Host.repoRoot + "/.build/reference-profiles/docker-default.json"),
            "needs Docker's default.json: run scripts/fetch-reference-profiles.sh"))
    func dockerDefault() throws {
        let s = TestState()
        let docker = Host.repoRoot + "/.build/reference-profiles/docker-default.json"
        let lint = try profileCommand(s, ["lint", docker])
        #expect(lint.status == 0, "\(lint.stdout)")
        #expect(lint.stdout.contains("[ptrace]"), "Docker allows ptrace; lint must say so: \(lint.stdout)")
        let t = try profileCommand(
            s, ["test", docker, "--cases", Host.repoRoot + "/Profiles/cases/docker-default.yaml"])
        #expect(t.status == 0, "\(t.stdout)\(t.stderr)")
        Leftovers.expectNone(s)
    }
}

extension SandboxIntegration {
    @Test("rootless: profile record and profile test work for an unprivileged user with delegated cgroups")
    func rootlessRecordAndTest() throws {
        let u = try Unprivileged()
        defer { u.cleanup() }
        try u.delegateCgroups()
        let env = [
            "PATH": "/usr/bin:/bin", "AIRLOCK_STATE_DIR": u.dir + "/state", "AIRLOCK_HELPER": u.dir + "/airlock-helper",
            "AIRLOCK_PROFILE_PATH": u.dir + "/Profiles", "AIRLOCK_PROBE": u.dir + "/airlock-probe",
            "HOME": "/nonexistent",
        ]
        func airlock(_ args: [String]) throws -> RunResult {
            try Run.capture(
                [
                    "/usr/bin/setpriv", "--reuid=\(u.uid)", "--regid=\(u.uid)", "--clear-groups", "--",
                    u.dir + "/airlock",
                ]
                    + args, env: env, cwd: u.dir)
        }
        let profile = u.dir + "/state/rec.yaml"
        let rec = try airlock(["profile", "record", "--out", profile, "--", "/bin/sh", "-c", "echo hi; ls /"])
        #expect(rec.status == 0 && rec.stdout.hasPrefix("hi\n"), "\(rec.stdout) \(rec.stderr)")
        let again = try airlock(["exec", "--profile", profile, "--", "/bin/sh", "-c", "echo hi; ls /"])
        #expect(again.status == 0 && again.stdout == rec.stdout, "\(again.stdout) \(again.stderr)")
        let t = try airlock(["profile", "test", "default"])
        #expect(t.status == 0, "\(t.stdout) \(t.stderr)")
    }
}

extension SandboxIntegration {
    @Test("profile lint: every unknown syscall with line and suggestion; exit 1 on errors, on warnings with --strict")
    func lintCommand() throws {
        let s = TestState()
        let typos = s.dir + "/typos.yaml"
        try
            "name: typos\nseccomp:\n  defaultAction: allow\n  rules:\n    - {names: [ptrac, getpid, unshar], action: errno}\n"
            .write(toFile: typos, atomically: true, encoding: .utf8)
        let bad = try profileCommand(s, ["lint", typos])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("typos.yaml:5:16: error: [unknown-syscall]") && bad.stdout.contains("'ptrace'"))
        #expect(bad.stdout.contains("typos.yaml:5:31: error: [unknown-syscall]") && bad.stdout.contains("'unshare'"))
        let host = try profileCommand(s, ["lint", "network-host"])
        #expect(host.status == 0 && host.stdout.contains("[host-network]"), "\(host.stdout)")
        #expect(try profileCommand(s, ["lint", "--strict", "network-host"]).status == 1)
        #expect(try profileCommand(s, ["lint", "--strict", "default", "strict"]).status == 0)
    }
}

extension SandboxIntegration {
    @Test("Profiles/README.md: the walkthrough from recording to testing runs as written")
    func readmeWalkthrough() throws {
        let s = TestState()
        let dir = s.dir + "/walk"
        try FileManager.default.createDirectory(atPath: dir + "/Examples", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/.build", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Host.repoRoot + "/Profiles", toPath: dir + "/Profiles")
        try FileManager.default.copyItem(atPath: Host.repoRoot + "/Examples/hello-c", toPath: dir + "/Examples/hello-c")
        try FileManager.default.copyItem(atPath: Host.probe, toPath: dir + "/.build/airlock-probe")
        _ = try Run.capture(["/bin/chmod", "-R", "a+rX", s.dir])
        let readme = try String(contentsOfFile: Host.repoRoot + "/Profiles/README.md", encoding: .utf8)
        let walk = try #require(readme.range(of: "## Walkthrough"))
        let block = readme[walk.upperBound...].components(separatedBy: "```sh\n")[1].components(separatedBy: "\n```")[0]
        // The last step records `make`; the example has no Makefile, so record a listing instead.
        let script = (block + "\n").replacingOccurrences(of: "-- make\n", with: "-- /bin/ls src\n")
        var env = s.env
        env["PATH"] = (Host.airlock as NSString).deletingLastPathComponent + ":/usr/bin:/bin"
        let r = try Run.capture(["/bin/bash", "-e", "-c", script + "\n"], env: env, cwd: dir)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("hello-build: 4 cases: 4 passed, 0 failed"), "\(r.stdout)")
        let merged = (try? String(contentsOfFile: dir + "/Profiles/hello-build.yaml", encoding: .utf8)) ?? ""
        #expect(merged.contains("# command: /bin/ls src") && merged.contains("# command: /bin/sh -c 'cc -O2"))
        Leftovers.expectNone(s)
    }
}

extension SandboxIntegration {
    @Test("profile test: a case that expects a kill by SIGSYS; explain agrees with the kernel")
    func signalExpectation() throws {
        let s = TestState()
        let profile = s.dir + "/kill-getuid.yaml"
        try """
        name: kill-getuid
        extends: default
        seccomp:
          rules:
            - {names: [getuid], action: kill, why: "a test of kill actions"}

        """.write(toFile: profile, atomically: true, encoding: .utf8)
        let cases = s.dir + "/cases.yaml"
        try """
        binds: [{src: "${AIRLOCK_PROBE}", dst: /opt/probe/airlock-probe}]
        cases:
          - {name: getuid kills, run: [/opt/probe/airlock-probe, syscall, getuid], expect: denied, signal: SIGSYS, syscall: getuid}
          - {name: getpid does not, run: [/opt/probe/airlock-probe, syscall, getpid], expect: allowed, output: ok getpid}
          - {name: wrong signal, run: [/opt/probe/airlock-probe, syscall, getuid], expect: denied, signal: SIGKILL}

        """.write(toFile: cases, atomically: true, encoding: .utf8)
        let r = try profileCommand(s, ["test", profile, "--cases", cases])
        #expect(r.status == 1)
        #expect(r.stdout.contains("3 cases: 2 passed, 1 failed"), "\(r.stdout)\(r.stderr)")
        let e = try profileCommand(s, ["explain", profile, "--syscall", "getuid"])
        #expect(e.stdout.contains("→ kill process"), "\(e.stdout)")
        Leftovers.expectNone(s)
    }
}

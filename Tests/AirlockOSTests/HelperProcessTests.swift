import Glibc
import Testing

@testable import AirlockOS

@Suite("HelperProcess")
struct HelperProcessTests {
    @Test("spawning a missing helper binary throws posix_spawn ENOENT with a hint")
    func missingHelper() throws {
        let config = TestHost.config(["/bin/true"])
        let error = try #require(throws: OSError.self) {
            _ = try HelperProcess.spawn(
                helperPath: "/no/such/airlock-helper", config: config, program: nil, stdio: (0, 1, 2))
        }
        #expect(error.call == "posix_spawn")
        #expect(error.errno == ENOENT)
        #expect(error.hint?.contains("AIRLOCK_HELPER") == true)
    }

    @Test("an invalid config is refused before anything is spawned")
    func invalidConfigNotSpawned() throws {
        let config = TestHost.config([])
        let error = try #require(throws: OSError.self) {
            _ = try HelperProcess.spawn(
                helperPath: "/no/such/airlock-helper", config: config, program: nil, stdio: (0, 1, 2))
        }
        #expect(error.call == "encode")
    }

    @Test("a job runs, its output and exit code come back, with the init's pid", .needsHelper)
    func runsJob() throws {
        let run = try TestHost.run(
            TestHost.config(["/bin/sh", "-c", "echo out; echo err >&2; echo uid=$(id -u) pid=$$; exit 7"]), program: nil
        )
        #expect(run.outcome.setupError == nil, "\(String(describing: run.outcome.setupError))")
        #expect(run.outcome.exitCode == 7)
        #expect(run.outcome.jobExited)
        let initPID = try #require(run.outcome.initPID)
        #expect(initPID > 0)
        #expect(run.output.contains("out\n"))
        #expect(run.output.contains("err\n"))
        // The job runs as the configured job uid, as pid 2 of its own pid namespace (init is 1).
        #expect(run.output.contains("uid=1000 pid=2"), "output: \(run.output)")
    }

    @Test("a job killed by a signal is reported as 128+N", .needsHelper)
    func signalExit() throws {
        let run = try TestHost.run(TestHost.config(["/bin/sh", "-c", "kill -TERM $$"]), program: nil)
        #expect(run.outcome.setupError == nil)
        #expect(run.outcome.exitCode == 128 + SIGTERM)
    }

    @Test("a missing command is a setup error at stage exec, ENOENT, naming the path", .needsHelper)
    func missingCommand() throws {
        let run = try TestHost.run(TestHost.config(["/no/such/binary"]), program: nil)
        let err = try #require(run.outcome.setupError)
        #expect(err.kind == .error)
        #expect(err.stage == .exec)
        #expect(err.errno == ENOENT)
        #expect(err.detail == "/no/such/binary")
        #expect(err.stage?.hint(errno: err.errno, detail: err.detail)?.contains("/no/such/binary") == true)
        // 127, as a shell reports a command it cannot run.
        #expect(run.outcome.exitCode == 127)
        #expect(run.outcome.initPID != nil)
    }

    @Test("a bare command name is searched along the job's PATH", .needsHelper)
    func pathSearch() throws {
        let found = try TestHost.run(TestHost.config(["true"]), program: nil)
        #expect(found.outcome.setupError == nil)
        #expect(found.outcome.exitCode == 0)
        let missing = try TestHost.run(TestHost.config(["no-such-command-airlock"]), program: nil)
        #expect(missing.outcome.setupError?.stage == .exec)
        #expect(missing.outcome.setupError?.errno == ENOENT)
        #expect(missing.outcome.setupError?.detail == "no-such-command-airlock")
    }

    @Test("a bind of a missing source is a setup error at stage bind", .needsHelper)
    func missingBindSource() throws {
        let source = "/no/such/source-\(getpid())"
        let run = try TestHost.run(
            TestHost.config(["/bin/true"], extraMounts: [.roBind(source: source, destination: "/mnt/data")]),
            program: nil)
        let err = try #require(run.outcome.setupError)
        #expect(err.stage == .bind)
        #expect(err.errno == ENOENT)
        #expect(run.outcome.exitCode == 125)
        // The job never ran, yet `jobExited` is true: the helper reports the sandbox init's exit
        // (125 from its `fail()`) as AIRLOCK_REPORT_EXITED whenever the init got past clone.
        // Only `setupError` tells the two apart.
        #expect(run.outcome.jobExited)
        #expect(run.outcome.initPID != nil)
        // HelperStage.bind's hint says "the bind source '<detail>' does not exist", so the detail
        // is the source: mounts.c's bind_mount names the host path when its stat() fails.
        #expect(err.detail == source, "the error names the missing host path")
    }

    @Test("a missing working directory is a setup error at stage chdir", .needsHelper)
    func missingWorkingDirectory() throws {
        var config = TestHost.config(["/bin/true"])
        config.workingDirectory = "/no/such/cwd"
        let run = try TestHost.run(config, program: nil)
        let err = try #require(run.outcome.setupError)
        #expect(err.stage == .chdir)
        #expect(err.errno == ENOENT)
        #expect(err.detail == "/no/such/cwd")
    }

    @Test("one shared program memfd serves several launches", .needsHelper)
    func sharedProgramFD() throws {
        let program = try SeccompCompiler.compile(
            SeccompPolicy(defaultAction: .allow, rules: [.init(syscall: "uname", action: .errno(EPERM))]))
        let shared = try OwnedFD.memfd("airlock-bpf-shared", contents: program.bytes)
        guard let helper = TestHost.helperPath else { return }
        for _ in 0..<2 {
            let out = try OwnedFD.pipe()
            let p = try HelperProcess.spawn(
                helperPath: helper, config: TestHost.config(["/usr/bin/uname", "-s"]), program: nil,
                programFD: shared, stdio: (0, out.write.raw, out.write.raw))
            out.write.close()
            let text = String(decoding: try out.read.readAll(), as: UTF8.self)
            let outcome = p.waitForExit()
            #expect(outcome.setupError == nil)
            #expect(outcome.exitCode != 0)
            #expect(text.contains("Operation not permitted"), "output: \(text)")
        }
    }

    @Test("more arguments than the helper accepts are refused before anything is spawned")
    func tooManyArguments() throws {
        let args = ["/bin/true"] + (0..<300).map { "a\($0)" }
        let config = TestHost.config(args)
        let error = #expect(throws: OSError.self) { try config.validate() }
        #expect(error?.errno == E2BIG)
        #expect(error?.hint?.contains("arguments") == true)
    }

    @Test("killSandbox ends a running job", .needsHelper)
    func killSandbox() throws {
        guard let helper = TestHost.helperPath else { return }
        let out = try OwnedFD.pipe()
        let p = try HelperProcess.spawn(
            helperPath: helper, config: TestHost.config(["/bin/sh", "-c", "echo ready; sleep 60"]), program: nil,
            stdio: (0, out.write.raw, out.write.raw))
        out.write.close()
        let first = String(decoding: try out.read.read(), as: UTF8.self)
        #expect(first.contains("ready"))
        p.killSandbox()
        let outcome = p.waitForExit()
        #expect(outcome.exitCode == 128 + SIGKILL)
        #expect(outcome.setupError == nil)
        // Every writer of the output pipe (sh and its sleep) is gone.
        #expect(try out.read.readAll().isEmpty)
    }
}

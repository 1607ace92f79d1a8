import Glibc
import Testing

@testable import AirlockOS

@Suite("HostCommand")
struct HostCommandTests {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = HostCommand.monotonicNow()
        try body()
        return HostCommand.monotonicNow() - t0
    }

    @Test("a child that fills its stderr pipe before writing stdout completes: both streams are drained")
    func drainsBothStreams() throws {
        // 2 MiB to stderr first, then 1.5 MiB to stdout: reading stdout to its end before
        // stderr (as the old git runner did) blocks both sides once the stderr pipe is full.
        let r = try HostCommand(
            "/bin/sh", ["-c", "head -c 2097152 /dev/zero >&2; head -c 1572864 /dev/zero; echo done >&2"],
            timeout: 60
        ).run()
        #expect(r.succeeded)
        #expect(!r.timedOut)
        #expect(r.stderr.count == 2_097_152 + 5)
        #expect(r.stdout.count == 1_572_864)
        #expect(r.stderrText.hasSuffix("done\n"))
        #expect(!r.truncated)
    }

    @Test("the timeout kills a sleeping child and says so")
    func timeoutKills() throws {
        var r: HostCommand.Result?
        let took = try Self.seconds { r = try HostCommand("/bin/sleep", ["30"], timeout: 0.3).run() }
        #expect(r?.timedOut == true)
        #expect(r?.signal == SIGKILL)
        #expect(r?.status == 128 + SIGKILL)
        #expect(r?.succeeded == false)
        #expect(took < 10)
    }

    @Test("the timeout kills the child's process group: a background grandchild holding the pipes goes too")
    func timeoutKillsTheGroup() throws {
        var r: HostCommand.Result?
        let took = try Self.seconds {
            r = try HostCommand("/bin/sh", ["-c", "sleep 30 & echo started; wait"], timeout: 0.5).run()
        }
        #expect(r?.timedOut == true)
        #expect(r?.stdoutText == "started\n")
        // Well under the grandchild's 30 s, which would keep stdout open if it survived.
        #expect(took < 10)
    }

    @Test("a child that closes its output and keeps running is killed at the deadline")
    func timeoutAfterClosingOutput() throws {
        let r = try HostCommand("/bin/sh", ["-c", "exec >/dev/null 2>&1; sleep 30"], timeout: 0.3).run()
        #expect(r.timedOut)
        #expect(r.signal == SIGKILL)
    }

    @Test("exit status, environment and working directory")
    func statusEnvironmentDirectory() throws {
        let r = try HostCommand(
            "/bin/sh", ["-c", "echo \"$GREETING\"; pwd; echo oops >&2; exit 3"], environment: ["GREETING": "hi"],
            workingDirectory: "/tmp"
        ).run()
        #expect(r.status == 3)
        #expect(r.signal == nil)
        #expect(!r.succeeded)
        #expect(r.stdoutText == "hi\n/tmp\n")
        #expect(r.stderrText == "oops\n")
    }

    @Test("the child gets /dev/null as stdin and no descriptor above 2")
    func descriptorHygiene() throws {
        let r = try HostCommand("/bin/sh", ["-c", "cat; ls /proc/self/fd"]).run()
        #expect(r.succeeded)
        // 0, 1, 2 and the fd `ls` opened for the listing.
        let fds = r.stdoutText.split(separator: "\n").compactMap { Int($0) }
        #expect(fds.filter { $0 > 3 }.isEmpty, "leaked descriptors: \(fds)")
    }

    @Test("output beyond the limit is read and dropped")
    func outputLimit() throws {
        let r = try HostCommand("/bin/sh", ["-c", "head -c 100000 /dev/zero"], outputLimit: 1000).run()
        #expect(r.succeeded)
        #expect(r.stdout.count == 1000)
        #expect(r.truncated)
    }

    @Test("a program that does not exist is an error naming posix_spawn and the path")
    func missingProgram() throws {
        #expect {
            try HostCommand("/nonexistent/airlock-no-such-tool").run()
        } throws: { e in
            guard let e = e as? OSError else { return false }
            return e.call == "posix_spawn" && e.object == "/nonexistent/airlock-no-such-tool" && e.errno == ENOENT
        }
    }

    @Test("the async form runs the same command")
    func asyncRun() async throws {
        let r = try await HostCommand("/bin/echo", ["async"]).run()
        #expect(r.stdoutText == "async\n")
    }
}

import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    @Test("a fork bomb stops at the pids limit")
    func forkBomb() throws {
        let s = TestState()
        let r = try s.probe("forkbomb", "2000", options: ["--pids", "64"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("then errno=11"), "\(r.stdout)")
        #expect(r.stderr.contains("pids limit"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }

    @Test("a memory bomb is OOM-killed at the memory limit")
    func memoryBomb() throws {
        let s = TestState()
        let r = try s.probe("membomb", "2048", options: ["--memory", "64M"])
        #expect(r.status == 128 + 9, "\(r.stdout) \(r.stderr)")
        #expect(!r.stdout.contains("ESCAPED"))
        #expect(r.stderr.contains("out of memory"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }

    @Test("filling /tmp hits ENOSPC at its size")
    func fillTmp() throws {
        let s = TestState()
        let r = try s.probe("fill", "/tmp/fill", "400")
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("errno=28"), "\(r.stdout)")
        // The default profile's /tmp is 256 MiB.
        #expect(r.stdout.contains("after 256 MiB") || r.stdout.contains("after 255 MiB"), "\(r.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("a timeout kills the whole process tree, including setsid'd descendants")
    func timeoutKillsTree() throws {
        let s = TestState()
        let start = Date()
        let r = try s.probe("spawn-tree", "60", options: ["--timeout", "2s"])
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.status == 124, "\(r.stdout) \(r.stderr)")
        #expect(elapsed < 15, "took \(elapsed)s")
        #expect(r.stderr.contains("timed out"))
        Leftovers.expectNone(s)
    }

    @Test("limits are reported, not silently ignored: bad sizes are usage errors")
    func badLimit() throws {
        let s = TestState()
        let r = try s.exec(["/bin/true"], probe: false, options: ["--memory", "lots"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--memory"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }
}

extension SandboxIntegration {
    /// CPU seconds the children of a 1-second busy loop used, as `times` reports them.
    func busyCPUSeconds(_ s: TestState, options: [String]) throws -> Double {
        let r = try s.exec(
            ["/bin/sh", "-c", "timeout 1 sh -c 'while :; do :; done'; times"], probe: false, options: options)
        // `times` prints two lines: the shell's own user/sys, then its children's.
        let children = r.stdout.split(separator: "\n").last?.split(separator: " ") ?? []
        func secs(_ t: Substring) -> Double {
            let parts = t.dropLast().split(separator: "m")  // "0m0.19s"
            return (Double(parts.first ?? "0") ?? 0) * 60 + (Double(parts.last ?? "0") ?? 0)
        }
        return children.map(secs).reduce(0, +)
    }

    @Test("the CPU limit throttles a busy loop (control: the same loop without a limit)")
    func cpuLimit() throws {
        let s = TestState()
        let control = try busyCPUSeconds(s, options: [])
        let limited = try busyCPUSeconds(s, options: ["--cpus", "0.2"])
        #expect(control > 0.6, "control used only \(control)s of CPU: inconclusive")
        #expect(limited < 0.4, "with --cpus 0.2 the loop used \(limited)s of CPU in 1s")
        Leftovers.expectNone(s)
    }
}

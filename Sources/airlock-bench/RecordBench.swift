// Recording overhead: the hello-c build (compile, link, run) plain vs under `profile record`.
import AirlockCore
import AirlockOS
import AirlockProfile
import AirlockSandbox
import Foundation

/// Runs the hello-c build `runs` times each way, interleaved, in one process and one machine
/// state; prints the medians and the ratio (target ≤ 3×).
func runRecordBenchmark(repo: String, runs: Int = 9) {
    let stateDir = NSTemporaryDirectory() + "airlock-bench-record-\(getpid())"
    try? FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: stateDir) }
    do {
        let profile = try ProfileLoader(searchPaths: [repo + "/Profiles"], syscalls: LibseccompSyscalls()).load(
            "default"
        ).profile
        let sandbox = Sandbox(state: StateDirectory(path: stateDir), helperPath: try HelperLocator.locate())
        defer { sandbox.close() }
        let identity = try SandboxIdentity.acquire(state: sandbox.state)
        defer { identity.release() }
        let devnull = open("/dev/null", O_RDWR)
        defer { close(devnull) }
        let command = ["/bin/sh", "-c", "cc -O2 -Wall -o hello src/hello.c && ./hello"]
        var plain: [Double] = []
        var recorded: [Double] = []
        var calls = 0
        for i in 0..<(runs + 1) {
            for record in (i % 2 == 0 ? [false, true] : [true, false]) {
                let ws = try Workspace.create(state: sandbox.state, name: "bench", identity: identity)
                defer { ws.remove() }
                try ws.add("src", from: ConfinedDirectory.open(repo + "/Examples/hello-c"), identity: identity)
                let spec = SandboxSpec(
                    profile: profile, command: command, workspace: ws.path, workingDirectory: "/workspace",
                    stdio: (devnull, devnull, devnull))
                let start = DispatchTime.now().uptimeNanoseconds
                let status: Int32
                if record {
                    let o = try ProfileRecorder.record(
                        sandbox: sandbox, spec: spec, identity: identity, baseReference: "default")
                    status = o.result.exitCode
                    calls = Int(o.observations.counts.values.reduce(0, +))
                } else {
                    status = try sandbox.runBlocking(spec, identity: identity).exitCode
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                guard status == 0 else { throw AirlockError(.internalError, "the hello-c build failed (\(status))") }
                if i > 0 { (record ? { recorded.append(seconds) } : { plain.append(seconds) })() }  // run 0 warms up
            }
        }
        let p = median(plain) * 1000
        let r = median(recorded) * 1000
        print("## Recording overhead: hello-c build (cc compile+link, run), \(runs) runs each, interleaved")
        print("")
        print("| run | median | p90 |")
        print("|---|---|---|")
        print(String(format: "| plain (default profile) | %.1f ms | %.1f ms |", p, percentile(plain, 0.9) * 1000))
        print(
            String(
                format: "| `profile record` (%d calls notified) | %.1f ms | %.1f ms |", calls, r,
                percentile(recorded, 0.9) * 1000))
        print("")
        print(String(format: "**ratio recorded/plain: %.2f×** (target ≤ 3×)", r / p))
        print("")
    } catch {
        print("(recording benchmark failed: \(error))")
    }
}

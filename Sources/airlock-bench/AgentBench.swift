// The agent through a spool directory: throughput of trivial jobs at concurrency 4, the agent's
// own overhead per job, its idle memory — against the same jobs run by `airlock run` processes,
// 4 at a time, in the same run.
import Foundation

/// Figures from one spool run.
struct AgentBenchResult {
    var jobs: Int
    var seconds: Double
    var claimToSandbox: [Double]
    var exitToResult: [Double]
    var idleRSSKiB: Int
}

func rssKiB(_ pid: pid_t) -> Int {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

let echoJob = "name: echo\nsteps: [{name: s, run: 'echo hello'}]\n"

/// Start `airlock agent --spool` (the binary next to this one), let it idle, drop `count` echo
/// jobs at once and wait for all results.
func benchAgentSpool(count: Int, concurrency: Int, airlock: String, state: String) -> AgentBenchResult {
    let spool = state + "/spool"
    try? FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: airlock)
    p.arguments = ["agent", "--spool", spool, "--concurrency", String(concurrency), "--name", "bench"]
    var env = ProcessInfo.processInfo.environment
    env["AIRLOCK_STATE_DIR"] = state
    p.environment = env
    p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    p.standardError = FileHandle(forWritingAtPath: "/dev/null")
    do { try p.run() } catch { fail("cannot start the agent: \(error)") }
    defer {
        kill(p.processIdentifier, SIGQUIT)
        p.waitUntilExit()
    }
    sleep(2)
    let idle = rssKiB(p.processIdentifier)
    // Stage all jobs, then move them in as fast as possible.
    let staging = state + "/staging"
    try? FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
    for i in 0..<count {
        FileManager.default.createFile(
            atPath: "\(staging)/e\(String(format: "%05d", i)).yaml", contents: Data(echoJob.utf8))
    }
    let t0 = now()
    for i in 0..<count {
        let n = "e\(String(format: "%05d", i)).yaml"
        rename("\(staging)/\(n)", "\(spool)/incoming/\(n)")
    }
    var setup: [Double] = []
    var report: [Double] = []
    var seen = Set<String>()
    while seen.count < count {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: spool + "/done")) ?? []
        where !name.hasPrefix(".") && !seen.contains(name) {
            guard let d = FileManager.default.contents(atPath: "\(spool)/done/\(name)/result.json"),
                let o = try? JSONSerialization.jsonObject(with: d) as? [String: Any]
            else { continue }
            seen.insert(name)
            if o["state"] as? String != "success" { fail("spool job \(name) did not succeed: \(o)") }
            if let t = o["timings"] as? [String: Any] {
                if let s = t["claim_to_sandbox_ms"] as? Double { setup.append(s) }
                if let r = t["exit_to_result_ms"] as? Double { report.append(r) }
            }
        }
        if now() - t0 > 600 { fail("spool benchmark: only \(seen.count)/\(count) jobs done after 600 s") }
        usleep(5_000)
    }
    return AgentBenchResult(
        jobs: count, seconds: now() - t0, claimToSandbox: setup, exitToResult: report, idleRSSKiB: idle)
}

/// The peer: the same jobs as `airlock run` processes, `parallel` at a time.
func benchAirlockRun(count: Int, parallel: Int, airlock: String, state: String) -> Double {
    let dir = state + "/run-jobs"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: dir + "/job.yaml", contents: Data(echoJob.utf8))
    let queue = DispatchQueue(label: "bench.run", attributes: .concurrent)
    let group = DispatchGroup()
    let sem = DispatchSemaphore(value: parallel)
    let t0 = now()
    for i in 0..<count {
        sem.wait()
        group.enter()
        queue.async {
            let out = "\(dir)/out-\(i)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: airlock)
            p.arguments = ["run", dir + "/job.yaml", "--out", out, "--quiet"]
            var env = ProcessInfo.processInfo.environment
            env["AIRLOCK_STATE_DIR"] = state
            p.environment = env
            p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try? p.run()
            p.waitUntilExit()
            if p.terminationStatus != 0 { fail("airlock run failed (\(p.terminationStatus))") }
            try? FileManager.default.removeItem(atPath: out)
            sem.signal()
            group.leave()
        }
    }
    group.wait()
    return now() - t0
}

func runAgentBench(airlock: String) {
    let count = Int(ProcessInfo.processInfo.environment["BENCH_AGENT_JOBS"] ?? "") ?? 200
    let state = NSTemporaryDirectory() + "airlock-bench-agent-\(getpid())"
    try? FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: state) }
    // Warm up (first key generation, page cache), then measure.
    _ = benchAirlockRun(count: 4, parallel: 4, airlock: airlock, state: state)
    let agent = benchAgentSpool(count: count, concurrency: 4, airlock: airlock, state: state)
    let peer = benchAirlockRun(count: count, parallel: 4, airlock: airlock, state: state)
    let rate = Double(agent.jobs) / agent.seconds
    let peerRate = Double(count) / peer
    print("")
    print("## Agent: \(count) trivial jobs (`echo hello`) through a spool directory, concurrency 4")
    print("")
    print("| runner | jobs/s | wall |")
    print("|---|---|---|")
    print(
        String(
            format: "| `airlock agent --spool` (one process, signed provenance per job) | %.1f | %.2f s |", rate,
            agent.seconds))
    print(
        String(
            format: "| `airlock run` processes, 4 at a time (signed provenance per job) | %.1f | %.2f s |", peerRate,
            peer))
    print("")
    print(
        String(
            format: "**agent throughput: %.1f jobs/s = %.2f× the one-shot CLI** (target ≥ 25 jobs/s)", rate,
            rate / peerRate))
    print("")
    print("| agent overhead per job | median | p90 |")
    print("|---|---|---|")
    print(
        String(
            format:
                "| claim → first sandbox running (parse, profile, workspace, uid slot, journal) | %.2f ms | %.2f ms |",
            median(agent.claimToSandbox), percentile(agent.claimToSandbox, 0.9)))
    print(
        String(
            format:
                "| sandbox exit → result written (log, outputs, hashing, signing, result.json) | %.2f ms | %.2f ms |",
            median(agent.exitToResult), percentile(agent.exitToResult, 0.9)))
    print(
        String(
            format: "| total | %.2f ms | |",
            median(agent.claimToSandbox) + median(agent.exitToResult)))
    print("")
    print(
        String(
            format: "idle agent resident memory (VmRSS after 2 s idle): **%.1f MB** (target ≤ 30 MB)",
            Double(agent.idleRSSKiB) / 1024))
    print("(targets: overhead ≤ 20 ms per job)")
}

// airlock-bench: Airlock's sandbox start-up against bubblewrap, and the seccomp filter's cost.
//
// Run with `make bench` (release build, as root). Both peers are measured in the same run,
// interleaved, on the same machine state; medians are reported, with the ratio.
import AirlockCore
import AirlockJob
import AirlockOS
import AirlockProfile
import AirlockSandbox
import AirlockSecrets
import AirlockVault
import Foundation

setvbuf(stdout, nil, _IOLBF, 0)
let args = CommandLine.arguments
let iterations = Int(ProcessInfo.processInfo.environment["BENCH_ITERATIONS"] ?? "") ?? 300
let loopIterations = Int(ProcessInfo.processInfo.environment["BENCH_LOOP"] ?? "") ?? 2_000_000
let repo = FileManager.default.currentDirectoryPath

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
func percentile(_ xs: [Double], _ p: Double) -> Double { xs.sorted()[min(xs.count - 1, Int(Double(xs.count) * p))] }
func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
func fail(_ s: String) -> Never {
    FileHandle.standardError.write(Data("airlock-bench: \(s)\n".utf8))
    exit(2)
}

/// posix_spawn `argv` with `fd3` (if any) at descriptor 3, stdio to /dev/null; wait; return status.
func spawnAndWait(_ argv: [String], fd3: Int32? = nil) -> Int32 {
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)
    if let fd3 { posix_spawn_file_actions_adddup2(&fa, fd3, 3) }
    var pid: pid_t = 0
    let cargs = argv.map { strdup($0) } + [nil]
    defer { cargs.forEach { free($0) } }
    let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
    let rc = posix_spawn(&pid, argv[0], &fa, nil, cargs, env)
    if rc != 0 { fail("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return status
}

guard geteuid() == 0 else { fail("run as root (the comparison uses root mode: uid ranges and cgroups)") }
guard access("/usr/bin/bwrap", X_OK) == 0 else {
    fail("bubblewrap is missing: apt-get install bubblewrap (make bench does)")
}

// BENCH_ONLY=agent: only the agent benchmark (section 5); BENCH_ONLY=record: only section 6;
// BENCH_ONLY=outputs: only section 7; BENCH_ONLY=cli: only the CLI start-up and `airlock run`
// (section 1b).
let benchDir = ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? args[0] as String)
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "agent" {
    runAgentBench(airlock: (benchDir as NSString).deletingLastPathComponent + "/airlock")
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "cli" {
    runCLIBench(airlock: (benchDir as NSString).deletingLastPathComponent + "/airlock", repo: repo)
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "outputs" {
    runOutputBench(scratch: "/var/tmp")
    exit(0)
}
if ProcessInfo.processInfo.environment["BENCH_ONLY"] == "record" {
    runRecordBenchmark(repo: repo)
    exit(0)
}

let stateDir = NSTemporaryDirectory() + "airlock-bench-\(getpid())"
try? FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: stateDir) }
let loader = ProfileLoader(searchPaths: [repo + "/Profiles"], syscalls: LibseccompSyscalls())
let profile: Profile
do { profile = try loader.load("default").profile } catch { fail("loading the default profile: \(error)") }
let sandbox = Sandbox(state: StateDirectory(path: stateDir), helperPath: try HelperLocator.locate())
let devnull = open("/dev/null", O_RDWR)
let program = try sandbox.programs.program(for: profile.seccomp, profileName: profile.name)

// The same BPF program for bwrap's --seccomp.
let bpfPath = stateDir + "/default.bpf"
_ = FileManager.default.createFile(atPath: bpfPath, contents: Data(program.bytes))

print("# Airlock benchmark — \(Date())")
print(
    "host: \(ProcessInfo.processInfo.operatingSystemVersionString), \(ProcessInfo.processInfo.activeProcessorCount) cores; libseccomp \(LibseccompSyscalls.libraryVersion)"
)
print("default profile: \(program.instructionCount) BPF instructions")
print("")

// ── 1. start-up: /bin/true ────────────────────────────────────────────────────────────────────
let spec = SandboxSpec(
    profile: profile, command: ["/bin/true"], limits: .init(profile: profile.limits),
    workingDirectory: "/", stdio: (devnull, devnull, devnull))
let bwrapArgs = bwrapTrueArgs()
var airlock: [Double] = [], bwrap: [Double] = []
for i in 0..<(iterations + 10) {
    let t0 = now()
    let r = try sandbox.runBlocking(spec)
    let t1 = now()
    if r.exitCode != 0 { fail("airlock /bin/true exited \(r.exitCode)") }
    let bfd = open(bpfPath, O_RDONLY)
    let t2 = now()
    let st = spawnAndWait(bwrapArgs, fd3: bfd)
    let t3 = now()
    close(bfd)
    if st != 0 { fail("bwrap /bin/true failed with status \(st)") }
    if i >= 10 {  // warm-up excluded
        airlock.append(t1 - t0)
        bwrap.append(t3 - t2)
    }
}
let am = median(airlock) * 1000, bm = median(bwrap) * 1000
print("## Sandbox start-up: /bin/true, \(iterations) runs each, interleaved")
print("")
print("| peer | median | p90 |")
print("|---|---|---|")
print(
    String(
        format:
            "| Airlock launch API (`Sandbox.runBlocking`, cgroup + uid range + default profile) | %.2f ms | %.2f ms |",
        am, percentile(airlock, 0.9) * 1000))
print(
    String(
        format:
            "| bwrap (`--unshare-all --die-with-parent --new-session --clearenv --cap-drop ALL`, same ro binds and tmpfs, `--seccomp` same BPF) | %.2f ms | %.2f ms |",
        bm, percentile(bwrap, 0.9) * 1000))
print("")
print(String(format: "**ratio Airlock/bwrap: %.2f×** (target ≤ 0.80×)", am / bm))
print("")

// ── 1b. the CLI as whole processes: `airlock exec`, `airlock run`, see CLIBench.swift ─────────
runCLIBench(airlock: (benchDir as NSString).deletingLastPathComponent + "/airlock", repo: repo)
print("")

// ── 2. seccomp overhead on a syscall-heavy loop ───────────────────────────────────────────────
let loopBin = stateDir + "/syscall-loop"
if spawnAndWait(["/usr/bin/cc", "-O2", "-o", loopBin, repo + "/Benchmarks/syscall-loop.c"]) != 0 {
    fail("cannot compile Benchmarks/syscall-loop.c")
}
chmod(stateDir, 0o755)
var unfiltered = profile
unfiltered.seccomp = SeccompSpec(defaultAction: .allow, rules: [])
func loopRun(_ p: Profile) throws -> Double {
    let (r, w) = try OwnedFD.pipe()
    let s = SandboxSpec(
        profile: p, command: ["/opt/bench/syscall-loop", String(loopIterations)],
        extraBinds: [BindMount(source: loopBin, destination: "/opt/bench/syscall-loop")],
        limits: .init(profile: p.limits), workingDirectory: "/", stdio: (devnull, w.raw, devnull))
    let res = try sandbox.runBlocking(s)
    w.close()
    let out = String(decoding: try r.readAll(), as: UTF8.self)
    guard res.exitCode == 0, let secs = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        fail("syscall loop failed: exit \(res.exitCode), output \(out)")
    }
    return secs
}
var withFilter: [Double] = [], without: [Double] = []
for _ in 0..<7 {
    withFilter.append(try loopRun(profile))
    without.append(try loopRun(unfiltered))
}
let wf = median(withFilter), wo = median(without)
print("## Seccomp cost: \(loopIterations) iterations of getppid+read+fstat+lseek, 7 runs each, interleaved")
print("")
print("| filter | median loop time | per iteration |")
print("|---|---|---|")
print(String(format: "| none (allow-all policy, no rules) | %.3f s | %.0f ns |", wo, wo / Double(loopIterations) * 1e9))
print(String(format: "| `default` profile | %.3f s | %.0f ns |", wf, wf / Double(loopIterations) * 1e9))
print("")
print(String(format: "**overhead of the default profile: %+.1f%%** (target ≤ 10%%)", (wf / wo - 1) * 100))

// ── 3. hashing outputs: FileHasher vs `openssl dgst -sha256` ─────────────────────────────────
let hashDir = "/var/tmp/airlock-bench-hash-\(getpid())"
try? FileManager.default.createDirectory(atPath: hashDir + "/many", withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: hashDir) }
do {
    // 1 GiB of incompressible data, one file and 1,000 files of 1 MiB.
    var block = [UInt8](repeating: 0, count: 1 << 20)
    let big = try OwnedFD.open(hashDir + "/big.bin", O_WRONLY | O_CREAT | O_TRUNC)
    for i in 0..<1024 {
        for j in stride(from: 0, to: block.count, by: 8) {
            var x = UInt64(i &* 1_048_576 &+ j) &* 0x9E37_79B9_7F4A_7C15
            withUnsafeBytes(of: &x) { for k in 0..<8 { block[j + k] = $0[k] } }
        }
        try big.writeAll(block)
        let f = try OwnedFD.open(hashDir + "/many/f\(String(format: "%04d", i)).bin", O_WRONLY | O_CREAT | O_TRUNC)
        try f.writeAll(block)
    }
    big.close()
}
let manyFiles = (try FileManager.default.contentsOfDirectory(atPath: hashDir + "/many")).sorted().prefix(1000).map {
    "many/" + $0
}
func cpuSeconds() -> Double {
    var ru = rusage()
    getrusage(RUSAGE_SELF.rawValue, &ru)
    return Double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + Double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6
}
func timeIt(_ body: () throws -> Void) rethrows -> (wall: Double, cpu: Double) {
    let c0 = cpuSeconds(), t0 = now()
    try body()
    return (now() - t0, cpuSeconds() - c0)
}
_ = spawnAndWait(["/bin/cat", hashDir + "/big.bin"])  // warm the page cache for both peers
var oSingle: [Double] = [], aSingle: [Double] = [], oMany: [Double] = [], aMany: [Double] = [], aManyCPU: [Double] = []
var aBoth: [Double] = []
for _ in 0..<5 {
    oSingle.append(timeIt { _ = spawnAndWait(["/usr/bin/openssl", "dgst", "-sha256", hashDir + "/big.bin"]) }.wall)
    aSingle.append(try timeIt { _ = try FileHasher.digest(fileAt: hashDir + "/big.bin") }.wall)
    aBoth.append(try timeIt { _ = try FileHasher.hash(root: hashDir, paths: ["big.bin"], sha1: true) }.wall)
    oMany.append(
        timeIt { _ = spawnAndWait(["/usr/bin/openssl", "dgst", "-sha256"] + manyFiles.map { hashDir + "/" + $0 }) }.wall
    )
    let m = try timeIt { _ = try FileHasher.hash(root: hashDir, paths: ["many"]) }
    aMany.append(m.wall)
    aManyCPU.append(m.cpu / m.wall)
}
let gib = 1024.0  // MiB
print("")
print("## Hashing 1 GiB of outputs: SHA-256, 5 runs each, interleaved (page cache warm)")
print("")
print("| case | openssl dgst -sha256 | Airlock FileHasher | ratio (throughput) |")
print("|---|---|---|---|")
print(
    String(
        format: "| one 1 GiB file | %.0f MiB/s | %.0f MiB/s | **%.2f×** |", gib / median(oSingle),
        gib / median(aSingle), median(oSingle) / median(aSingle)))
print(
    String(
        format: "| 1,000 files of 1 MiB | %.0f MiB/s (one process) | %.0f MiB/s (%.2f cores busy) | %.2f× |",
        gib / median(oMany), gib / median(aMany), median(aManyCPU), median(oMany) / median(aMany)))
print(
    String(format: "| one 1 GiB file, SHA-256 + SHA-1 (provenance + SPDX) | — | %.0f MiB/s | — |", gib / median(aBoth)))
print("")
print("target: single file ≥ 0.90× openssl; the many-file case uses both cores")

// ── 4. secret overhead per job with OpenBao on loopback ─────────────────────────────────────
if let envText = try? String(contentsOfFile: repo + "/.build/services/env", encoding: .utf8) {
    var svc: [String: String] = [:]
    for line in envText.split(separator: "\n") {
        if let eq = line.firstIndex(of: "=") { svc[String(line[..<eq])] = String(line[line.index(after: eq)...]) }
    }
    if let addr = svc["AIRLOCK_TEST_BAO_ADDR"], let role = svc["AIRLOCK_TEST_APPROLE_ROLE_ID"],
        let secretID = svc["AIRLOCK_TEST_APPROLE_SECRET_ID"]
    {
        let journal = LeaseJournal(stateDir: stateDir)
        let access = SecretAccessLog(stateDir: stateDir)
        let transport = HTTPVaultTransport(address: addr)
        defer { transport.shutdown() }
        func perJob(_ requests: [SecretRequest]) throws -> [Double] {
            var times: [Double] = []
            for i in 0..<105 {
                // A fresh broker per job: authenticate, policy + child token, read, inject, revoke.
                let broker = OpenBaoBroker(
                    config: OpenBaoConfig(address: addr, auth: .appRole(roleID: role, secretID: secretID)),
                    transport: transport)
                let t0 = now()
                try SecretScope.withSecrets(
                    broker: broker, journal: journal, access: access, jobID: "bench-\(i)", requests: requests, ttl: 600
                ) { issued in
                    // Inject: what the runner does with them (masker + the files' config records).
                    _ = SecretMasker(secrets: issued.map(\.value))
                    _ = issued.map { s in s.value.withBytes { String(decoding: $0, as: UTF8.self) } }
                }
                if i >= 5 { times.append(now() - t0) }
            }
            return times
        }
        let kv = try perJob([SecretRequest(name: "token", source: .vaultKV(path: "secret/ci/deploy", field: "token"))])
        let both = try perJob([
            SecretRequest(name: "token", source: .vaultKV(path: "secret/ci/deploy", field: "token")),
            SecretRequest(name: "db", source: .vaultDynamic(path: "database/creds/ci", field: nil)),
        ])
        print("")
        print("## Secret overhead per job, OpenBao on loopback: authenticate, issue, inject, revoke (100 jobs)")
        print("")
        print("| secrets | median | p90 |")
        print("|---|---|---|")
        print(String(format: "| 1 KV v2 value | %.1f ms | %.1f ms |", median(kv) * 1000, percentile(kv, 0.9) * 1000))
        print(
            String(
                format: "| 1 KV v2 value + 1 PostgreSQL credential (dynamic lease) | %.1f ms | %.1f ms |",
                median(both) * 1000, percentile(both, 0.9) * 1000))
        print("")
        print("target: ≤ 25 ms")
    }
} else {
    print("")
    print("(secret overhead skipped: run scripts/start-services.sh first; `make bench` does)")
}

// ── 5. the agent: spool throughput, overhead per job, idle memory ──────────────────────────
runAgentBench(airlock: (benchDir as NSString).deletingLastPathComponent + "/airlock")

// ── 6. recording overhead (`airlock profile record`), see RecordBench.swift ──────────────────
runRecordBenchmark(repo: repo)

// ── 7. output collection against cp -a, see OutputBench.swift ─────────────────────────────────
runOutputBench(scratch: "/var/tmp")

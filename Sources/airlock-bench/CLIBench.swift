// The one-shot CLI: `airlock exec -- /bin/true` as a whole process against bwrap with the same
// isolation, interleaved in one run, and the wall time of `airlock run` for a one-line job.
import AirlockOS
import AirlockProfile
import AirlockSandbox
import Foundation

/// bwrap's argv for `/bin/true` with the isolation of the default profile: every namespace, no
/// capabilities, a new session, the same read-only binds and tmpfs mounts, and the same BPF
/// program (read from descriptor 3).
func bwrapTrueArgs() -> [String] {
    [
        "/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
        "--cap-drop", "ALL", "--uid", "1000", "--gid", "1000",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
        // The rest of the default profile's filesystem, so both build the same tree.
        "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/home/build",
        "--remount-ro", "/", "--hostname", "airlock",
        "--seccomp", "3", "/bin/true",
    ]
}

/// posix_spawn `argv` with `environment`, `fd3` (if any) at descriptor 3 and stdio on
/// /dev/null; wait; the raw wait status and the child's CPU seconds (user + system).
func spawnTimed(_ argv: [String], environment: [String: String], fd3: Int32? = nil) -> (status: Int32, cpu: Double) {
    var fa = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&fa)
    defer { posix_spawn_file_actions_destroy(&fa) }
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)
    if let fd3 { posix_spawn_file_actions_adddup2(&fa, fd3, 3) }
    var pid: pid_t = 0
    let cargs = argv.map { strdup($0) } + [nil]
    let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        cargs.forEach { free($0) }
        cenv.forEach { free($0) }
    }
    let rc = posix_spawn(&pid, argv[0], &fa, nil, cargs, cenv)
    if rc != 0 { fail("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let cpu =
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        / 1e6
    return (status, cpu)
}

func runCLIBench(airlock: String, repo: String) {
    let env = ProcessInfo.processInfo.environment
    let iterations = Int(env["BENCH_CLI_ITERATIONS"] ?? "") ?? 100
    let runIterations = Int(env["BENCH_RUN_ITERATIONS"] ?? "") ?? 20
    let state = NSTemporaryDirectory() + "airlock-bench-cli-\(getpid())"
    try? FileManager.default.createDirectory(atPath: state + "/job", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: state) }
    let childEnv = ["PATH": "/usr/bin:/bin", "AIRLOCK_STATE_DIR": state, "AIRLOCK_PROFILE_PATH": repo + "/Profiles"]

    // bwrap gets the default profile's BPF program, as in the launch-API comparison.
    let loader = ProfileLoader(searchPaths: [repo + "/Profiles"], syscalls: LibseccompSyscalls())
    let program: SeccompProgram
    do {
        let profile = try loader.load("default").profile
        program = try SeccompProgramCache().program(for: profile.seccomp, profileName: profile.name)
    } catch { fail("the default profile: \(error)") }
    let bpfPath = state + "/default.bpf"
    _ = FileManager.default.createFile(atPath: bpfPath, contents: Data(program.bytes))

    // ── `airlock exec -- /bin/true` against bwrap, interleaved; the first runs warm the caches.
    let execArgv = [airlock, "exec", "--", "/bin/true"]
    let versionArgv = [airlock, "--version"]
    var exec: [Double] = [], execCPU: [Double] = [], bwrap: [Double] = [], bwrapCPU: [Double] = []
    var version: [Double] = []
    for i in 0..<(iterations + 5) {
        let t0 = now()
        let a = spawnTimed(execArgv, environment: childEnv)
        let t1 = now()
        if a.status != 0 { fail("airlock exec -- /bin/true failed with status \(a.status)") }
        let bfd = open(bpfPath, O_RDONLY)
        let t2 = now()
        let b = spawnTimed(bwrapTrueArgs(), environment: ["PATH": "/usr/bin:/bin"], fd3: bfd)
        let t3 = now()
        close(bfd)
        if b.status != 0 { fail("bwrap /bin/true failed with status \(b.status)") }
        let v = spawnTimed(versionArgv, environment: childEnv)
        let t4 = now()
        if i >= 5 {
            exec.append(t1 - t0)
            execCPU.append(a.cpu)
            bwrap.append(t3 - t2)
            bwrapCPU.append(b.cpu)
            // An airlock before 0.2.0's --version (a same-machine A/B) has no row for it.
            if v.status == 0 { version.append(t4 - t3) }
        }
    }

    // ── `airlock run` of a one-line job; the first run generates the key and fills the caches.
    let job = state + "/job/job.yaml"
    _ = FileManager.default.createFile(atPath: job, contents: Data(echoJob.utf8))
    var run: [Double] = [], runCPU: [Double] = []
    for i in 0..<(runIterations + 2) {
        let out = state + "/job/out"
        try? FileManager.default.removeItem(atPath: out)
        let t0 = now()
        let r = spawnTimed([airlock, "run", job, "--out", out, "--quiet"], environment: childEnv)
        let t1 = now()
        if r.status != 0 { fail("airlock run failed with status \(r.status)") }
        if i >= 2 {
            run.append(t1 - t0)
            runCPU.append(r.cpu)
        }
    }

    let ms = { (xs: [Double]) in median(xs) * 1000 }
    print("")
    print("## CLI start-up: whole processes, \(iterations) runs each, interleaved")
    print("")
    // CPU is what wait4 reports for the process and the children it reaped (bwrap does not
    // reap its sandbox's init, so its figure leaves the sandbox out).
    print("| peer | median | p90 | CPU (median) |")
    print("|---|---|---|---|")
    print(
        String(
            format:
                "| `airlock exec -- /bin/true` (default profile, cgroup, uid range, scratch workspace) | %.2f ms | %.2f ms | %.2f ms |",
            ms(exec), percentile(exec, 0.9) * 1000, ms(execCPU)))
    print(
        String(
            format: "| bwrap, the same isolation and BPF (as in the launch-API table) | %.2f ms | %.2f ms | %.2f ms |",
            ms(bwrap), percentile(bwrap, 0.9) * 1000, ms(bwrapCPU)))
    if !version.isEmpty {
        print(
            String(
                format: "| `airlock --version` (process start alone) | %.2f ms | %.2f ms | |", ms(version),
                percentile(version, 0.9) * 1000))
    }
    print("")
    print(String(format: "**ratio airlock exec/bwrap: %.2f×** (target ≤ 2.00×)", median(exec) / median(bwrap)))
    print("")
    print("## `airlock run` of a one-line job (`echo hello`, signed provenance), \(runIterations) runs")
    print("")
    print("| case | median | p90 | CPU (median) |")
    print("|---|---|---|---|")
    print(
        String(
            format:
                "| `airlock run job.yaml --quiet` (warm: key, toolchain and BPF caches exist) | %.1f ms | %.1f ms | %.1f ms |",
            ms(run), percentile(run, 0.9) * 1000, ms(runCPU)))
    print("")
    print(String(format: "**airlock run: %.1f ms** (target ≤ 150 ms)", ms(run)))
}

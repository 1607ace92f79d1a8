import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    func run(_ job: String, state s: TestState, out: String? = nil) throws -> (RunResult, String) {
        let outDir = out ?? s.dir + "/out-\(UUID().uuidString.prefix(6))"
        let r = try Run.capture([Host.airlock, "run", job, "--out", outDir], env: s.env, cwd: Host.repoRoot)
        return (r, outDir)
    }

    @Test("Examples/hello-c builds a binary in the sandbox, and the binary runs")
    func helloC() throws {
        let s = TestState()
        let (r, out) = try run("Examples/hello-c/job.yaml", state: s)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("==> [1/2] compile") && r.stdout.contains("==> [2/2] smoke-test"))
        let bin = out + "/hello"
        #expect(FileManager.default.isExecutableFile(atPath: bin))
        let ran = try Run.capture([bin])
        #expect(ran.status == 0 && ran.stdout.contains("Hello from a binary built inside an Airlock sandbox"))
        // The saved log has the same step markers and output as the live stream.
        let log = try String(contentsOfFile: out + "/hello-c.log", encoding: .utf8)
        #expect(log.contains("==> [1/2] compile") && log.contains("Hello from a binary"))
        Leftovers.expectNone(s)
    }

    @Test("Examples/failing-step stops at the failing step, exits with its status, collects nothing")
    func failingStep() throws {
        let s = TestState()
        let (r, out) = try run("Examples/failing-step/job.yaml", state: s)
        #expect(r.status == 3, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("this step fails on purpose"))
        #expect(!r.stdout.contains("never-runs"), "the third step must not start")
        #expect(r.stderr.contains("failed in step 'fail'"), "\(r.stderr)")
        #expect(
            !FileManager.default.fileExists(atPath: out + "/prepared.txt"), "outputs are collected only after success")
        Leftovers.expectNone(s)
    }

    @Test("Examples/no-network shows the network blocked")
    func noNetwork() throws {
        let s = TestState()
        let (r, _) = try run("Examples/no-network/job.yaml", state: s)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("network blocked, as expected"))
        Leftovers.expectNone(s)
    }

    /// Writes a job (and optional extra files) into a temp dir.
    func tempJob(_ yaml: String, files: [String: String] = [:], in s: TestState) throws -> String {
        let dir = s.dir + "/job-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            let p = dir + "/" + name
            try FileManager.default.createDirectory(
                atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: p, atomically: true, encoding: .utf8)
        }
        try yaml.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
        return dir + "/job.yaml"
    }

    @Test("the job environment is deterministic: hostname, uid, HOME, TZ, locale, SOURCE_DATE_EPOCH, umask")
    func deterministicEnvironment() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: env
            sourceDateEpoch: 1700000000
            env: {GREETING: hello}
            steps:
              - name: show
                run: |
                  echo "host=$(hostname) id=$(id -u):$(id -g) home=$HOME tz=$TZ lc=$LC_ALL sde=$SOURCE_DATE_EPOCH umask=$(umask) pwd=$(pwd) g=$GREETING core=$(ulimit -c)"
            """, in: s)
        let (r, _) = try run(job, state: s)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains(
                "host=airlock id=1000:1000 home=/home/build tz=UTC lc=C.UTF-8 sde=1700000000 umask=0022 pwd=/workspace g=hello core=0"
            ), "\(r.stdout)")
        Leftovers.expectNone(s)
    }

    @Test("SOURCE_DATE_EPOCH defaults to the newest input's mtime")
    func sourceDateEpochFromInputs() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: sde
            inputs: [src]
            steps:
              - name: show
                run: echo "sde=$SOURCE_DATE_EPOCH"
            """, files: ["src/a.txt": "a"], in: s)
        let dir = (job as NSString).deletingLastPathComponent
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1_600_000_000)], ofItemAtPath: dir + "/src/a.txt")
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1_500_000_000)], ofItemAtPath: dir + "/src")
        let (r, _) = try run(job, state: s)
        #expect(r.stdout.contains("sde=1600000000"), "\(r.stdout)")
    }

    @Test("an output that is a symlink out of the workspace is refused, not followed")
    func outputSymlinkEscape() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: escape
            steps:
              - name: plant
                run: ln -s /etc/passwd stolen && mkdir d && ln -s / d/root
            outputs: [stolen]
            """, in: s)
        let (r, out) = try run(job, state: s)
        #expect(r.status != 0, "\(r.stdout)")
        #expect(r.stderr.contains("outside the workspace"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out + "/stolen"))
        Leftovers.expectNone(s)
    }

    @Test("the captured log is capped at the profile's logLimit; the job is not blocked")
    func logCap() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: noisy
            profile: ./small-log.yaml
            steps:
              - name: spam
                run: |
                  i=0; while [ $i -lt 2000 ]; do echo "line $i of noise noise noise noise noise"; i=$((i+1)); done
                  echo done-after-spam > marker
            outputs: [marker]
            """,
            files: [
                "small-log.yaml": """
                # A test profile: the default one with a 4 KiB log cap.
                extends: default
                limits: {logLimit: 4KiB}
                """
            ], in: s)
        let (r, out) = try run(job, state: s)
        #expect(r.status == 0, "\(r.stderr)")
        let log = try String(contentsOfFile: out + "/noisy.log", encoding: .utf8)
        #expect(log.contains("log limit of 4096 bytes reached"))
        #expect(!log.contains("line 1999 "), "output past the cap must be dropped")
        #expect(log.utf8.count < 4096 + 2048)
        #expect(FileManager.default.fileExists(atPath: out + "/marker"), "the job ran to the end")
        Leftovers.expectNone(s)
    }

    @Test(
        "bad job files: exit 2 with file, line and field; nothing left behind",
        arguments: [
            ("name: x\nstpes: []\n", "unknown field 'stpes'"),
            ("name: x\nsteps:\n  - name: a\n    run: [1]\n", "steps[0].run"),
            ("name: x\nsteps: [\n", "job.yaml"),
            ("name: x\nprofile: no-such-profile\nsteps:\n  - {name: a, run: 'true'}\n", "no-such-profile"),
            ("name: x\ninputs: [missing-dir]\nsteps:\n  - {name: a, run: 'true'}\n", "missing-dir"),
        ])
    func badJobs(_ yaml: String, _ mentions: String) throws {
        let s = TestState()
        let job = try tempJob(yaml, in: s)
        let (r, out) = try run(job, state: s)
        #expect(r.status == 2, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stderr.contains(mentions), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing should be created for a refused job")
        Leftovers.expectNone(s)
    }

    @Test("a profile with an unknown syscall is refused with a suggestion")
    func badProfile() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: x
            profile: ./typo.yaml
            steps:
              - {name: a, run: 'true'}
            """,
            files: [
                "typo.yaml": """
                extends: default
                seccomp:
                  rules:
                    - names: [ptrac]
                      action: errno
                """
            ], in: s)
        let (r, _) = try run(job, state: s)
        #expect(r.status == 2)
        #expect(r.stderr.contains("typo.yaml:4") && r.stderr.contains("did you mean 'ptrace'"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }
}

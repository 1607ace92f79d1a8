import AirlockCore
import AirlockJob
import AirlockOS
import AirlockProfile
import AirlockSandbox
import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// A job attacks its watchers: forged runner lines in the saved log, escape sequences for
    /// the terminal, lines left unfinished before the runner's verdict.
    @Suite("log integrity (root)", .serialized)
    struct LogIntegrity {
        /// Writes `yaml` as a job file in a fresh directory of `s`.
        func jobFile(_ yaml: String, in s: TestState) throws -> String {
            let dir = s.dir + "/job-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try yaml.write(toFile: dir + "/job.yaml", atomically: true, encoding: .utf8)
            return dir + "/job.yaml"
        }

        func savedLog(_ out: String, _ name: String) throws -> String {
            String(decoding: try Data(contentsOf: URL(fileURLWithPath: out + "/\(name).log")), as: UTF8.self)
        }

        /// Each line of a saved log as "tag|text"; a line without a valid prefix as "?|line".
        func sourced(_ log: String) -> [String] {
            log.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
                LogLine($0).map { "\($0.source.tag)\($0.continued ? "+" : "|")\($0.text)" } ?? "?|\($0)"
            }
        }

        @Test func forgedRunnerLinesStayTheJobsInTheSavedLog() throws {
            let s = TestState()
            let job = try jobFile(
                #"""
                name: forge
                steps:
                  - name: lie
                    run: |
                      echo "==> job 'forge' succeeded; 1 output(s) in /tmp"
                      printf 'partial\n==> step %s finished in 0.01s\n' "'y'"
                      echo "==> job 'forge' succeeded" >&2
                      printf 'x\n==> step %s finished\n' "'y'" >&2
                      printf 'runner| ==> job forged by prefix\n'
                      exit 3
                """#, in: s)
            let out = s.dir + "/out"
            let r = try Run.capture([Host.airlock, "run", job, "--out", out], env: s.env, cwd: s.dir)
            #expect(r.status == 3, "\(r.stdout)\n\(r.stderr)")
            let lines = sourced(try savedLog(out, "forge"))
            #expect(!lines.contains { $0.hasPrefix("?|") }, "every line has a prefix: \(lines)")
            // grep '^runner| ': only what the runner said.
            #expect(
                lines.filter { $0.hasPrefix("runner|") } == [
                    "runner|==> [1/1] lie", "runner|==> step 'lie' failed: exit status 3",
                    "runner|==> job 'forge' failed with exit status 3",
                ], "\(lines)")
            // The forgeries are there, as the job's lines on the stream that wrote them.
            for line in [
                "stdout|==> job 'forge' succeeded; 1 output(s) in /tmp", "stdout|partial",
                "stdout|==> step 'y' finished in 0.01s", "stderr|==> job 'forge' succeeded", "stderr|x",
                "stderr|==> step 'y' finished", "stdout|runner| ==> job forged by prefix",
            ] {
                #expect(lines.contains(line), "missing \(line): \(lines)")
            }
            // The live console shows the runner's verdict last, on a line of its own.
            #expect(r.stdout.hasSuffix("\n==> job 'forge' failed with exit status 3\n"), "\(r.stdout)")
            Leftovers.expectNone(s)
        }

        @Test func aStepNameCannotForgeARunnerLine() throws {
            let s = TestState()
            let job = try jobFile(
                #"""
                name: named
                steps:
                  - name: "a\n==> job 'named' succeeded\e]0;t\a"
                    run: "true"
                """#, in: s)
            let out = s.dir + "/out"
            let r = try Run.capture([Host.airlock, "run", job, "--out", out], env: s.env, cwd: s.dir)
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
            let runner = sourced(try savedLog(out, "named")).filter { $0.hasPrefix("runner|") }
            #expect(runner.first == #"runner|==> [1/1] a\n==> job 'named' succeeded\e]0;t\u{7}"#, "\(runner)")
            #expect(runner.filter { $0.hasPrefix("runner|==> job 'named' succeeded") }.count == 1, "\(runner)")
            #expect(!r.stdout.contains("\u{1B}"), "\(r.stdout.debugDescription)")
            Leftovers.expectNone(s)
        }

        /// Bytes that would move, clear, retitle or conceal on a terminal: every ESC must start
        /// an SGR sequence without conceal, and no other control but \n, \r, \t may appear.
        static func terminalHazards(_ bytes: [UInt8]) -> [String] {
            var found: [String] = []
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x1B {
                    var j = i + 1
                    guard j < bytes.count, bytes[j] == 0x5B else {
                        found.append("ESC \(j < bytes.count ? String(bytes[j]) : "at end")")
                        i = j
                        continue
                    }
                    j += 1
                    while j < bytes.count, (0x30...0x3B).contains(bytes[j]) { j += 1 }
                    let params = String(decoding: bytes[(i + 2)..<j], as: UTF8.self)
                    if j >= bytes.count || bytes[j] != 0x6D {
                        found.append("CSI \(params)\(j < bytes.count ? String(UnicodeScalar(bytes[j])) : "")")
                    } else if params.split(separator: ";").contains(where: { Int($0) == 8 }) {
                        found.append("conceal in SGR \(params)")
                    }
                    i = j + 1
                    continue
                }
                if (b < 0x20 && ![0x0A, 0x0D, 0x09].contains(b)) || b == 0x7F
                    || (b == 0x9B && (i == 0 || bytes[i - 1] < 0x80))
                {
                    found.append("control \(b)")
                }
                if b == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) {
                    found.append("C1 \(bytes[i + 1])")
                }
                i += 1
            }
            return found
        }

        @Test func aJobCannotHijackTheWatchersTerminal() throws {
            let s = TestState()
            let job = try jobFile(
                #"""
                name: hijack
                steps:
                  - name: show
                    run: |
                      printf '\033]0;pwned-title\007'
                      printf '\033]52;c;cHduZWQ=\033\\'
                      printf 'visible \033[8mconcealed-text\033[0m\n'
                      printf '\033[2J\033[H\033[1A\033[10;5H\033[Kmoved\n' >&2; sleep 0.3
                      printf '\033[31mred\033[0m \033[1;32mgreen\033[0m\n'
                      printf '\302\233 c1 csi \233 raw csi \033P+q\033\\ \033_apc\033\\ \033(0 \033#8\n'
                      printf '\033[30;40mblack on black, no newline'
                      exit 1
                """#, in: s)
            let out = s.dir + "/out"
            // A real terminal: script(1) gives `airlock run` a pty and copies what reaches it.
            let cmd = "\(Host.airlock) run \(job) --out \(out)"
            let r = try Run.capture(["/usr/bin/script", "-qec", cmd, "/dev/null"], env: s.env, cwd: s.dir)
            let screen = Array(r.stdout.utf8)
            #expect(r.status != 0)
            #expect(
                Self.terminalHazards(screen).isEmpty, "\(Self.terminalHazards(screen)): \(r.stdout.debugDescription)")
            #expect(!r.stdout.contains("pwned-title") && !r.stdout.contains("cHduZWQ="))
            #expect(r.stdout.contains("visible concealed-text"), "conceal is gone, the text shows")
            #expect(r.stdout.contains("moved"))
            #expect(r.stdout.contains("\u{1B}[31mred\u{1B}[0m \u{1B}[1;32mgreen\u{1B}[0m"), "colours stay")
            // The runner's failure line: attributes reset, on a line of its own.
            #expect(
                r.stdout.contains(
                    "\u{1B}[30;40mblack on black, no newline\u{1B}[0m\r\n==> step 'show' failed: exit status 1"),
                "\(r.stdout.debugDescription)")
            // The saved log keeps the job's bytes as written (prefixed), for the record.
            let log = try savedLog(out, "hijack")
            #expect(log.contains("stdout| \u{1B}]0;pwned-title"), "\(log.debugDescription)")
            #expect(log.contains("stderr| \u{1B}[2J"))
            Leftovers.expectNone(s)
        }

        @Test func runnerNotesStartOnTheirOwnLineAfterAnUnfinishedJobLine() throws {
            let s = TestState()
            let job = try jobFile(
                """
                name: unfinished
                steps:
                  - {name: a, run: "printf 'no newline at the end'"}
                  - {name: b, run: "printf 'half a line'; printf 'stderr too' >&2; exit 2"}
                """, in: s)
            let out = s.dir + "/out"
            let r = try Run.capture([Host.airlock, "run", job, "--out", out], env: s.env, cwd: s.dir)
            #expect(r.status == 2)
            let lines = sourced(try savedLog(out, "unfinished"))
            let a = try #require(lines.firstIndex(of: "stdout|no newline at the end"), "\(lines)")
            #expect(lines[a + 1].hasPrefix("runner|==> step 'a' finished in "), "\(lines)")
            let b = try #require(lines.firstIndex(of: "stdout|half a line"), "\(lines)")
            #expect(lines[b + 1] == "stderr|stderr too", "\(lines)")
            #expect(lines[b + 2] == "runner|==> step 'b' failed: exit status 2", "\(lines)")
            #expect(r.stdout.contains("no newline at the end\n==> step 'a' finished in "), "\(r.stdout)")
            #expect(r.stdout.contains("stderr too\n==> step 'b' failed: exit status 2\n"), "\(r.stdout)")
            Leftovers.expectNone(s)
        }

        func runner(_ s: TestState) throws -> (JobPipeline, Profile) {
            let sandbox = Sandbox(state: StateDirectory(path: s.dir), helperPath: Host.helper)
            let loader = ProfileLoader(searchPaths: [Host.repoRoot + "/Profiles"], syscalls: LibseccompSyscalls())
            return (JobPipeline(sandbox: sandbox), try loader.load("default").profile)
        }

        @Test func eachStreamIsMaskedOnItsOwnAcrossWritesAndAPipedConsoleIsFiltered() throws {
            let s = TestState()
            let (r, profile) = try runner(s)
            // Each half of the secret in its own write, the other stream writing in between.
            let job = Job(
                name: "masked",
                steps: [
                    .init(
                        name: "s",
                        run: """
                            printf 'out=%s' "${TOKEN%%-*}-"; sleep 0.2; printf 'err=%s' "${TOKEN%%-*}-" >&2; sleep 0.2
                            printf '%s\\n' "${TOKEN#*-}"; sleep 0.2; printf '%s\\n' "${TOKEN#*-}" >&2
                            printf '\\033]0;title\\007\\033[33mcolour\\033[0m\\n'
                            """)
                ], env: [("TOKEN", "hunter2-secret")])
            // A pipe, as the GitLab trace gets it: filtered all the same.
            let pipe = Pipe()
            let box = DataBox()
            let readEnd = pipe.fileHandleForReading
            let reader = Thread { box.data = readEnd.readDataToEndOfFile() }
            reader.start()
            let report = try r.run(
                job: job, profile: profile, outDir: s.dir + "/out", console: pipe.fileHandleForWriting,
                mask: [.init("hunter2-secret")])
            try pipe.fileHandleForWriting.close()
            while !reader.isFinished { usleep(10_000) }
            let log = try String(contentsOfFile: report.logPath, encoding: .utf8)
            let console = String(decoding: box.data, as: UTF8.self)
            #expect(report.exitCode == 0, "\(log)")
            for text in [log, console] {
                #expect(!text.contains("hunter2") && !text.contains("secret"), "\(text)")
            }
            let lines = sourced(log)
            #expect(lines.contains("stdout+[MASKED]") || lines.contains("stdout|out=[MASKED]"), "\(lines)")
            #expect(lines.contains("stderr+[MASKED]") || lines.contains("stderr|err=[MASKED]"), "\(lines)")
            #expect(console.contains("\u{1B}[33mcolour\u{1B}[0m") && !console.contains("title"), "\(console)")
            r.sandbox.close()
            Leftovers.expectNone(s)
        }
    }
}

import AirlockCore
import AirlockJob
import AirlockOS
import AirlockProfile
import AirlockSandbox
import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    @Suite("step conditions and cancellation (root)", .serialized)
    struct StepControl {
        func runner(_ s: TestState) throws -> (JobPipeline, Profile) {
            let sandbox = Sandbox(state: StateDirectory(path: s.dir), helperPath: Host.helper)
            let loader = ProfileLoader(searchPaths: [Host.repoRoot + "/Profiles"], syscalls: LibseccompSyscalls())
            return (JobPipeline(sandbox: sandbox), try loader.load("default").profile)
        }

        @Test func onFailureAndAlwaysStepsRunOnlyWhenTheyShould() throws {
            let s = TestState()
            let (r, profile) = try runner(s)
            let job = Job(
                name: "cond",
                steps: [
                    .init(name: "ok", run: "echo step-ok"),
                    .init(name: "bad", run: "echo step-bad; exit 4"),
                    .init(name: "skipped", run: "echo step-skipped"),
                    .init(name: "rescue", run: "echo step-rescue", when: .onFailure),
                    .init(name: "cleanup", run: "echo step-cleanup; exit 9", when: .always),
                ])
            let report = try r.run(job: job, profile: profile, outDir: s.dir + "/out", console: nil)
            let log = try String(contentsOfFile: report.logPath, encoding: .utf8)
            #expect(report.exitCode == 4)
            #expect(report.failedStep == "bad")
            #expect(log.contains("step-ok") && log.contains("step-rescue") && log.contains("step-cleanup"))
            #expect(!log.contains("step-skipped"))
            #expect(report.steps.map(\.name) == ["ok", "bad", "rescue", "cleanup"])
            r.sandbox.close()
            Leftovers.expectNone(s)
        }

        @Test func gracefulCancelStopsTheScriptButRunsCleanupAbortRunsNothing() throws {
            let s = TestState()
            let (r, profile) = try runner(s)
            for how in [JobControl.Cancellation.graceful, .abort] {
                let job = Job(
                    name: "cancel",
                    steps: [
                        .init(name: "work", run: "echo started; sleep 60; echo not-reached"),
                        .init(name: "cleanup", run: "echo cleanup-ran", when: .always),
                    ])
                let control = JobControl()
                // Readiness: cancel once the job's log shows the script running.
                let logFile = s.dir + "/out-\(how)/cancel.log"
                Thread.detachNewThread {
                    let end = Date().addingTimeInterval(30)
                    while Date() < end,
                        !((try? String(contentsOfFile: logFile, encoding: .utf8))?.contains("started\n") ?? false)
                    {
                        usleep(10_000)
                    }
                    control.cancel(how)
                }
                let t0 = Date()
                let report = try r.run(
                    job: job, profile: profile, outDir: s.dir + "/out-\(how)", console: nil, control: control)
                let log = try String(contentsOfFile: report.logPath, encoding: .utf8)
                #expect(Date().timeIntervalSince(t0) < 10)
                #expect(report.canceled)
                #expect(report.exitCode != 0)
                #expect(log.contains("started") && !log.contains("not-reached"))
                #expect(log.contains("cleanup-ran") == (how == .graceful), "\(how): \(log)")
                #expect(control.firstSandboxStart != nil)
            }
            r.sandbox.close()
            Leftovers.expectNone(s)
        }

        @Test func maskedValuesAreHiddenInTheLog() throws {
            let s = TestState()
            let (r, profile) = try runner(s)
            let job = Job(
                name: "mask", steps: [.init(name: "s", run: "echo value=$TOKEN")], env: [("TOKEN", "hunter2-secret")])
            let report = try r.run(
                job: job, profile: profile, outDir: s.dir + "/out", console: nil,
                mask: [.init("hunter2-secret")])
            let log = try String(contentsOfFile: report.logPath, encoding: .utf8)
            #expect(log.contains("value=[MASKED]"))
            #expect(!log.contains("hunter2"))
            r.sandbox.close()
        }
    }
}

extension SandboxIntegration {
    @Suite("uid ranges across runners (root)", .serialized)
    struct UIDRanges {
        @Test func runnersWithDifferentStateDirectoriesNeverShareAUIDRange() throws {
            let a = TestState()
            let b = TestState()
            var held: [SandboxIdentity] = []
            for i in 0..<6 {
                held.append(try SandboxIdentity.acquire(state: StateDirectory(path: (i % 2 == 0 ? a : b).dir)))
            }
            let ranges = held.map(\.hostJobUID)
            #expect(Set(ranges).count == ranges.count, "uids \(ranges)")
            #expect(held.allSatisfy { !$0.rootless })
            held.forEach { $0.release() }
        }
    }
}

import AirlockCore
import AirlockProfile
import AirlockSandbox
import Testing

@testable import AirlockJob

/// The step scheduler as any user sees it: a fake launcher and a fake clock, no sandbox, no root.
@Suite("step scheduler")
struct StepSchedulerTests {
    /// Time in seconds, advanced by the fake launcher as its steps "run".
    final class FakeClock: @unchecked Sendable {
        var now: Double = 1000
    }

    /// Plays each step: how long it takes, its exit status, and what happens meanwhile.
    final class FakeLauncher: SandboxLauncher {
        struct Play {
            var seconds: Double = 1
            var exit: Int32 = 0
            var during: (() -> Void)?
        }
        let clock: FakeClock
        var plays: [String: Play]
        var launched: [StepLaunch] = []

        init(clock: FakeClock, _ plays: [String: Play] = [:]) {
            self.clock = clock
            self.plays = plays
        }

        func launch(_ s: StepLaunch) throws -> SandboxResult {
            launched.append(s)
            let play = plays[s.step.name] ?? Play()
            play.during?()
            // A step that outlives its launch's limit is killed at the limit, as the sandbox does.
            if let t = s.timeout, play.seconds > t {
                clock.now += t
                return SandboxResult(exitCode: 124, timedOut: true, duration: t)
            }
            clock.now += play.seconds
            return SandboxResult(exitCode: play.exit, duration: play.seconds)
        }

        var names: [String] { launched.map(\.step.name) }
    }

    /// Cancellation as a `JobControl` carries it.
    final class Cancel: @unchecked Sendable {
        var how: JobControl.Cancellation?
    }

    func schedule(
        _ steps: [Job.Step], timeout: Double? = nil, launcher: FakeLauncher, cancel: Cancel = Cancel(),
        notes: ((String) -> Void)? = nil
    ) throws -> StepScheduler.Outcome {
        let clock = launcher.clock
        var s = StepScheduler(
            steps: steps, limits: ResourceLimits(memory: 1 << 20, pids: 64, timeout: timeout),
            deadline: timeout.map { clock.now + $0 }, clock: { clock.now }, cancellation: { cancel.how },
            note: notes ?? { _ in })
        return try s.run(launcher)
    }

    @Test func onFailureAndAlwaysStepsRunOnlyWhenTheyShould() throws {
        let launcher = FakeLauncher(clock: FakeClock(), ["bad": .init(exit: 4), "cleanup": .init(exit: 9)])
        let o = try schedule(
            [
                .init(name: "ok", run: ""), .init(name: "bad", run: ""), .init(name: "skipped", run: ""),
                .init(name: "rescue", run: "", when: .onFailure), .init(name: "cleanup", run: "", when: .always),
            ], launcher: launcher)
        #expect(launcher.names == ["ok", "bad", "rescue", "cleanup"])
        #expect(o.exitCode == 4)
        #expect(o.failedStep == "bad")
        #expect(o.failure == "exit status 4")
        #expect(o.steps.map(\.exitCode) == [0, 4, 0, 9])
        #expect(launcher.launched.map(\.cleanup) == [false, false, true, true])
    }

    @Test func onFailureStepsAreSkippedWhenAllSucceed() throws {
        let launcher = FakeLauncher(clock: FakeClock())
        let o = try schedule(
            [.init(name: "a", run: ""), .init(name: "rescue", run: "", when: .onFailure), .init(name: "b", run: "")],
            launcher: launcher)
        #expect(launcher.names == ["a", "b"])
        #expect(o.exitCode == 0 && o.failedStep == nil && o.failure == nil && !o.canceled && !o.timedOut)
    }

    @Test func eachStepGetsWhatIsLeftOfTheJobsTimeCappedByItsOwn() throws {
        let launcher = FakeLauncher(clock: FakeClock(), ["a": .init(seconds: 4), "b": .init(seconds: 1)])
        _ = try schedule(
            [.init(name: "a", run: ""), .init(name: "b", run: ""), .init(name: "c", run: "", timeout: 2)],
            timeout: 10, launcher: launcher)
        #expect(launcher.launched.map(\.timeout) == [10, 6, 2])
        // Without a job timeout, only the step's own limit applies.
        let free = FakeLauncher(clock: FakeClock())
        _ = try schedule([.init(name: "x", run: ""), .init(name: "y", run: "", timeout: 7)], launcher: free)
        #expect(free.launched.map(\.timeout) == [nil, 7])
    }

    @Test func aStepThatOutlivesTheJobDeadlineTimesTheJobOutButCleanupStillRuns() throws {
        let launcher = FakeLauncher(clock: FakeClock(), ["slow": .init(seconds: 60)])
        let o = try schedule(
            [
                .init(name: "fast", run: ""), .init(name: "slow", run: ""), .init(name: "next", run: ""),
                .init(name: "cleanup", run: "", when: .always),
            ], timeout: 10, launcher: launcher)
        #expect(launcher.names == ["fast", "slow", "cleanup"])
        #expect(o.exitCode == 124 && o.timedOut && o.failedStep == "slow")
        #expect(o.failure == "timed out (job timeout 10s); the whole process tree was killed")
        // Past the deadline a clean-up step runs with the clean-up grace, not a spent budget.
        #expect(launcher.launched.last?.timeout == StepScheduler.cleanupGrace)
    }

    @Test func aStepReachedAfterTheDeadlineIsNotStartedAndTheJobTimesOut() throws {
        // The launcher ignores limits here: the first step overran while exiting 0.
        final class Overrun: SandboxLauncher {
            let clock: FakeClock
            var names: [String] = []
            init(_ c: FakeClock) { clock = c }
            func launch(_ s: StepLaunch) throws -> SandboxResult {
                names.append(s.step.name)
                clock.now += 20
                return SandboxResult(exitCode: 0, duration: 20)
            }
        }
        let clock = FakeClock()
        let launcher = Overrun(clock)
        var notes: [String] = []
        var s = StepScheduler(
            steps: [.init(name: "a", run: ""), .init(name: "b", run: ""), .init(name: "c", run: "", when: .always)],
            limits: ResourceLimits(timeout: 10), deadline: clock.now + 10, clock: { clock.now },
            cancellation: { nil }, note: { notes.append($0) })
        let o = try s.run(launcher)
        #expect(launcher.names == ["a", "c"])
        #expect(o.exitCode == 124 && o.timedOut && o.failedStep == "b")
        #expect(o.failure == "the job timed out after 10s")
        #expect(notes.contains("==> [2/3] b\n"))
    }

    @Test func gracefulCancelStopsTheScriptButRunsCleanupSteps() throws {
        let cancel = Cancel()
        let launcher = FakeLauncher(
            clock: FakeClock(), ["work": .init(exit: 137, during: { cancel.how = .graceful })])
        let o = try schedule(
            [
                .init(name: "work", run: ""), .init(name: "more", run: ""),
                .init(name: "cleanup", run: "", when: .always),
            ], launcher: launcher, cancel: cancel)
        #expect(launcher.names == ["work", "cleanup"])
        #expect(o.canceled && o.exitCode == 137 && o.failedStep == "work" && !o.timedOut)
        #expect(o.failure == "the job was canceled")
    }

    @Test func abortStopsEverythingIncludingCleanup() throws {
        let cancel = Cancel()
        let launcher = FakeLauncher(clock: FakeClock(), ["work": .init(exit: 137, during: { cancel.how = .abort })])
        let o = try schedule(
            [.init(name: "work", run: ""), .init(name: "cleanup", run: "", when: .always)], launcher: launcher,
            cancel: cancel)
        #expect(launcher.names == ["work"])
        #expect(o.canceled && o.exitCode == 137)
    }

    @Test func aJobCanceledBeforeItsFirstStepExits130() throws {
        let cancel = Cancel()
        cancel.how = .abort
        let launcher = FakeLauncher(clock: FakeClock())
        let o = try schedule([.init(name: "a", run: "")], launcher: launcher, cancel: cancel)
        #expect(launcher.names.isEmpty)
        #expect(o.canceled && o.exitCode == 130 && o.failedStep == nil && o.failure == "the job was canceled")
    }

    @Test func failuresNameTheLimitThatWasHit() {
        let limits = ResourceLimits(memory: 1 << 20, pids: 64, timeout: 30)
        #expect(
            StepScheduler.describeFailure(SandboxResult(exitCode: 137, oomKilled: true), jobTimeout: 30, limits: limits)
                == "killed by the out-of-memory killer at the memory limit (1048576 bytes)")
        #expect(
            StepScheduler.describeFailure(
                SandboxResult(exitCode: 2, pidsLimitHit: true), jobTimeout: 30, limits: limits)
                == "exit status 2 (the pids limit of 64 was hit)")
        #expect(
            StepScheduler.describeFailure(SandboxResult(exitCode: 143), jobTimeout: 30, limits: limits)
                == "killed by signal 15")
    }

    @Test func stepNamesAreQuotedInRunnerLines() throws {
        var notes: [String] = []
        let launcher = FakeLauncher(clock: FakeClock())
        _ = try schedule([.init(name: "evil\u{1b}[2J\nname", run: "")], launcher: launcher, notes: { notes.append($0) })
        #expect(notes.count == 2)
        #expect(!notes.joined().contains("\u{1b}"))
        #expect(notes.allSatisfy { $0.filter { $0 == "\n" }.count == 1 })
    }
}

@Suite("teardown")
struct TeardownTests {
    @Test func releasesNewestFirstAndOnlyOnce() {
        var order: [String] = []
        let t = Teardown()
        t.add("out dir") { order.append("out dir") }
        t.add("uid slot") { order.append("uid slot") }
        t.add("workspace") { order.append("workspace") }
        #expect(t.pending == ["workspace", "uid slot", "out dir"])
        t.run()
        t.run()
        #expect(order == ["workspace", "uid slot", "out dir"])
        #expect(t.pending.isEmpty)
    }
}

@Suite("resource limits")
struct ResourceLimitsTests {
    @Test func flagsWinOverTheJobWhichWinsOverTheProfile() {
        var job = Job(name: "j", steps: [.init(name: "s", run: "true")])
        job.resources = .init(memory: 100, pids: 10, workspace: 5000)
        job.timeout = 60
        let profile = LimitsSpec(memory: 1, pids: 2, cpus: 0.5, nofile: 99, timeout: 3600, workspace: 7)
        let plain = ResourceLimits.resolve(profile: profile)
        #expect(plain == ResourceLimits(memory: 1, pids: 2, cpus: 0.5, nofile: 99, timeout: 3600, workspace: 7))
        let withJob = ResourceLimits.resolve(profile: profile, job: job)
        #expect(withJob == ResourceLimits(memory: 100, pids: 10, cpus: 0.5, nofile: 99, timeout: 60, workspace: 5000))
        let withFlags = ResourceLimits.resolve(profile: profile, job: job, flags: .init(memory: 7, timeout: 5))
        #expect(withFlags.memory == 7 && withFlags.timeout == 5 && withFlags.pids == 10)
    }
}

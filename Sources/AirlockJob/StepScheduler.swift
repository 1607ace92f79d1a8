import AirlockCore
import AirlockSandbox
import Foundation

/// One step as the scheduler asks a launcher to run it.
public struct StepLaunch: Sendable {
    /// Position in the job (0-based) and the job's step count.
    public var index: Int
    public var count: Int
    public var step: Job.Step
    /// This launch's wall-clock limit: what is left of the job's, capped by the step's own.
    public var timeout: Double?
    /// A clean-up step (`when: always` / `on_failure`): it still runs after a graceful cancel
    /// and after the job's deadline.
    public var cleanup: Bool
}

/// Runs one step's sandbox and reports how it ended. The pipeline's launcher starts a real
/// sandbox (`SandboxStepLauncher`); tests drive the scheduler with a fake one.
public protocol SandboxLauncher {
    func launch(_ step: StepLaunch) throws -> SandboxResult
}

/// Stage: which steps run, in what order, under which deadline — a pure state machine.
///
/// It decides from the steps' `when`, the job's deadline and per-step timeouts, and the job's
/// cancellation (`graceful` stops the script but lets clean-up steps run; `abort` stops
/// everything), and nothing else: time comes from an injected monotonic clock and the sandbox
/// from a `SandboxLauncher`, so every case is a unit test.
public struct StepScheduler {
    /// How the steps ended.
    public struct Outcome: Sendable {
        public var steps: [StepReport] = []
        public var exitCode: Int32 = 0
        public var failedStep: String?
        public var timedOut = false
        public var canceled = false
        public var failure: String?
    }

    /// The limit for a clean-up step that starts after the job's deadline (GitLab's default
    /// `after_script` timeout).
    public static let cleanupGrace: Double = 300

    public let steps: [Job.Step]
    /// The job's limits (`timeout` is the job's; memory and pids name failures).
    public let limits: ResourceLimits
    /// When the job's time is up, on `clock`; nil for no job timeout.
    public let deadline: Double?
    let clock: () -> Double
    let cancellation: () -> JobControl.Cancellation?
    /// Runner lines for the log (`==> …`).
    let note: (String) -> Void

    private var next = 0
    private var outcome = Outcome()

    public init(
        steps: [Job.Step], limits: ResourceLimits, deadline: Double?, clock: @escaping () -> Double,
        cancellation: @escaping () -> JobControl.Cancellation?, note: @escaping (String) -> Void
    ) {
        self.steps = steps
        self.limits = limits
        self.deadline = deadline
        self.clock = clock
        self.cancellation = cancellation
        self.note = note
    }

    /// Run every step that should run, through `launcher`.
    public mutating func run(_ launcher: SandboxLauncher) throws -> Outcome {
        while let launch = nextLaunch() {
            record(launch, try launcher.launch(launch))
        }
        return finish()
    }

    /// The next step to launch, or nil when no step is left to run. Skipped steps (by `when`)
    /// and steps past the deadline are settled here.
    public mutating func nextLaunch() -> StepLaunch? {
        while next < steps.count {
            let i = next
            let step = steps[i]
            next += 1
            switch cancellation() {
            case .abort?:
                outcome.canceled = true
                next = steps.count
                return nil
            case .graceful?: outcome.canceled = true
            case nil: break
            }
            let failedSoFar = outcome.failedStep != nil || outcome.canceled
            switch step.when {
            case .onSuccess where failedSoFar, .onFailure where !failedSoFar: continue
            default: break
            }
            let cleanup = step.when != .onSuccess
            // Step names come from the job file: quoted so they cannot break or restyle a line.
            note("==> [\(i + 1)/\(steps.count)] \(LogFramer.printable(step.name))\n")
            var timeout = limits.timeout
            if let d = deadline {
                let left = d - clock()
                if left <= 0 && !cleanup {
                    outcome.timedOut = true
                    outcome.exitCode = 124
                    outcome.failedStep = step.name
                    continue
                }
                // Clean-up steps still run after the deadline, with their own limit.
                timeout = left > 0 ? left : (step.timeout ?? Self.cleanupGrace)
            }
            if let t = step.timeout { timeout = min(timeout ?? t, t) }
            return StepLaunch(index: i, count: steps.count, step: step, timeout: timeout, cleanup: cleanup)
        }
        return nil
    }

    /// Record how a launched step ended.
    public mutating func record(_ launch: StepLaunch, _ r: SandboxResult) {
        let step = launch.step
        let name = LogFramer.printable(step.name)
        outcome.steps.append(StepReport(name: step.name, exitCode: r.exitCode, duration: r.duration, result: r))
        let how = cancellation()
        let stoppedByCancel = how != nil && !(launch.cleanup && how == .graceful)
        guard r.exitCode != 0 else {
            note("==> step '\(name)' finished in \(String(format: "%.2f", r.duration))s\n")
            return
        }
        var stepLimits = limits
        stepLimits.timeout = launch.timeout
        let why = stoppedByCancel ? "canceled" : Self.describeFailure(r, jobTimeout: limits.timeout, limits: stepLimits)
        note("==> step '\(name)' failed: \(why)\n")
        if stoppedByCancel { outcome.canceled = true }
        if outcome.failedStep == nil {
            outcome.exitCode = r.exitCode
            outcome.failedStep = step.name
            outcome.timedOut = r.timedOut && !stoppedByCancel
            outcome.failure = why
        }
    }

    /// The steps' outcome, with the job-level failure message.
    public func finish() -> Outcome {
        var o = outcome
        if o.canceled {
            if o.failedStep == nil { o.exitCode = 130 }
            o.failure = "the job was canceled"
        }
        if o.timedOut && o.failure == nil {
            o.failure = "the job timed out after \(Int(limits.timeout ?? 0))s"
        }
        return o
    }

    /// A failed step, in words.
    static func describeFailure(_ r: SandboxResult, jobTimeout: Double?, limits: ResourceLimits) -> String {
        if r.timedOut { return "timed out (job timeout \(Int(jobTimeout ?? 0))s); the whole process tree was killed" }
        if r.oomKilled {
            return
                "killed by the out-of-memory killer at the memory limit (\(limits.memory.map(String.init) ?? "?") bytes)"
        }
        if r.exitCode > 128 {
            return "killed by signal \(r.exitCode - 128)" + (r.pidsLimitHit ? " (the pids limit was hit)" : "")
        }
        return "exit status \(r.exitCode)" + (r.pidsLimitHit ? " (the pids limit of \(limits.pids ?? 0) was hit)" : "")
    }
}

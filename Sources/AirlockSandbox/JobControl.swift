import AirlockOS
import Foundation
import Synchronization

/// A handle on a running job for someone else than the runner: the agent cancels jobs through it
/// (the coordinator said so, or the agent is shutting down) and reads when sandboxes started and
/// exited (its own overhead is measured between those points).
///
/// Thread-safe. One control per job; pass it in the `JobRequest`.
public final class JobControl: Sendable {
    /// How a job is stopped.
    public enum Cancellation: Sendable, Equatable {
        /// Stop the running script; steps marked `when: always` or `on_failure` (GitLab's
        /// `after_script`) still run.
        case graceful
        /// Stop everything now; no further step runs.
        case abort
    }

    private struct State {
        var cancellation: Cancellation?
        var current: HelperProcess?
        var currentIsCleanup = false
        var firstStart: Date?
        var lastExit: Date?
    }
    private let state = Mutex(State())

    public init() {}

    /// The cancellation requested so far, if any (`abort` wins over `graceful`).
    public var cancellation: Cancellation? { state.withLock { $0.cancellation } }

    /// When the job's first sandbox was running (its helper spawned), if it got that far.
    public var firstSandboxStart: Date? { state.withLock { $0.firstStart } }

    /// When the job's last sandbox exited.
    public var lastSandboxExit: Date? { state.withLock { $0.lastExit } }

    /// Cancel the job. The running sandbox is killed (process tree, via its helper) unless the
    /// request is graceful and the running step is a clean-up step.
    public func cancel(_ how: Cancellation) {
        let victim = state.withLock { s -> HelperProcess? in
            if s.cancellation != .abort { s.cancellation = how }
            return (how == .abort || !s.currentIsCleanup) ? s.current : nil
        }
        victim?.killSandbox()
    }

    /// Called by the sandbox right after a helper started; kills it at once if the job was
    /// already canceled in a way that covers this step.
    func attach(_ helper: HelperProcess, cleanup: Bool) {
        let how = state.withLock { s -> Cancellation? in
            s.current = helper
            s.currentIsCleanup = cleanup
            if s.firstStart == nil { s.firstStart = Date() }
            return s.cancellation
        }
        if how == .abort || (how == .graceful && !cleanup) { helper.killSandbox() }
    }

    func detach(_ helper: HelperProcess) {
        state.withLock { s in
            if s.current === helper { s.current = nil }
            s.lastExit = Date()
        }
    }
}

import AirlockOS
import Foundation

/// A handle on a running job for someone else than the runner: the agent cancels jobs through it
/// (the coordinator said so, or the agent is shutting down) and reads when sandboxes started and
/// exited (its own overhead is measured between those points).
///
/// Thread-safe. One control per job; pass it in the `JobRequest`.
public final class JobControl: @unchecked Sendable {
    /// How a job is stopped.
    public enum Cancellation: Sendable, Equatable {
        /// Stop the running script; steps marked `when: always` or `on_failure` (GitLab's
        /// `after_script`) still run.
        case graceful
        /// Stop everything now; no further step runs.
        case abort
    }

    private let lock = NSLock()
    private var cancellationState: Cancellation?
    private var current: HelperProcess?
    private var currentIsCleanup = false
    private var firstStart: Date?
    private var lastExit: Date?

    public init() {}

    /// The cancellation requested so far, if any (`abort` wins over `graceful`).
    public var cancellation: Cancellation? { lock.lock(); defer { lock.unlock() }; return cancellationState }

    /// When the job's first sandbox was running (its helper spawned), if it got that far.
    public var firstSandboxStart: Date? { lock.lock(); defer { lock.unlock() }; return firstStart }

    /// When the job's last sandbox exited.
    public var lastSandboxExit: Date? { lock.lock(); defer { lock.unlock() }; return lastExit }

    /// Cancel the job. The running sandbox is killed (process tree, via its helper) unless the
    /// request is graceful and the running step is a clean-up step.
    public func cancel(_ how: Cancellation) {
        lock.lock()
        if cancellationState != .abort { cancellationState = how }
        let victim = (how == .abort || !currentIsCleanup) ? current : nil
        lock.unlock()
        victim?.killSandbox()
    }

    /// Called by the sandbox right after a helper started; kills it at once if the job was
    /// already canceled in a way that covers this step.
    func attach(_ helper: HelperProcess, cleanup: Bool) {
        lock.lock()
        current = helper
        currentIsCleanup = cleanup
        if firstStart == nil { firstStart = Date() }
        let state = cancellationState
        lock.unlock()
        if state == .abort || (state == .graceful && !cleanup) { helper.killSandbox() }
    }

    func detach(_ helper: HelperProcess) {
        lock.lock()
        if current === helper { current = nil }
        lastExit = Date()
        lock.unlock()
    }
}

import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOHTTP1

/// One job's conversation with GitLab: acceptance (pending → running), the live trace,
/// cancellation, the final update and artifact uploads. Thread-safe.
///
/// Output goes in through `appendTrace` (masked, limited), out through a background task
/// (`startTraceStreaming`) that PATCHes it to GitLab in chunks; `finish` sends the rest and the
/// final state with the trace's checksum.
public final class GitLabJobSession: Sendable {
    /// Tuning; the defaults are GitLab Runner's behaviour.
    public struct Options: Sendable {
        /// Largest trace PATCH body.
        public var chunkSize = 1 << 20
        /// Seconds between trace PATCHes when GitLab does not say (`X-GitLab-Trace-Update-Interval`).
        public var defaultUpdateInterval: Double = 3
        /// Cap on GitLab's requested update interval, in seconds.
        public var maxUpdateInterval: Double = 30
        /// With no new output, a `PUT state=running` this often (seconds) to learn of a cancel.
        public var keepAliveInterval: Double = 30
        /// Final-update attempts (202 and 412 answers included) before `finish` gives up.
        public var finalUpdateMaxAttempts = 60
        /// Longest partial line held back for masking.
        public var holdBack = 8192
        public init() {}
    }

    public let payload: GitLabJobPayload
    let client: GitLabClient
    let logger: Logger
    let traceLimit: Int
    let options: Options
    let state: NIOLockedValueBox<SessionState>

    /// - Parameters:
    ///   - maskValues: values to mask in the log; the payload's masked variables and the job
    ///     token are always masked too.
    ///   - traceLimit: bytes of log sent at most (GitLab Runner's `output_limit`); then one notice.
    public init(
        client: GitLabClient, payload: GitLabJobPayload, maskValues: [String], traceLimit: Int,
        logger: Logger, options: Options = Options()
    ) {
        self.client = client
        self.payload = payload
        self.traceLimit = max(0, traceLimit)
        self.options = options
        var logger = logger
        logger[metadataKey: "job"] = "\(payload.id)"
        self.logger = logger
        let masker = TraceMasker(
            values: maskValues + payload.maskedValues + [payload.token], holdBack: options.holdBack)
        state = NIOLockedValueBox(
            SessionState(masker: masker, updateInterval: options.defaultUpdateInterval))
    }

    /// GitLab's view of the job, from the last `Job-Status` header seen.
    public var remoteStatus: RemoteJobStatus { state.withLockedValue { $0.remoteStatus } }

    /// The exact (masked, limited) trace produced so far: what GitLab gets.
    public var traceBytes: [UInt8] { state.withLockedValue { $0.trace } }

    /// Calls `handler` whenever the remote status changes (on any thread). If the job must
    /// already stop (canceling, canceled, failed), the handler is called at once.
    public func onRemoteStatusChange(_ handler: @escaping @Sendable (RemoteJobStatus) -> Void) {
        let current: RemoteJobStatus = state.withLockedValue {
            $0.handlers.append(handler)
            return $0.remoteStatus
        }
        if current.requiresStop { handler(current) }
    }

    /// Adds job output. Masks complete lines, holds back a partial one, enforces `traceLimit`.
    /// Output after `finish` has begun is ignored.
    public func appendTrace(_ bytes: [UInt8]) {
        state.withLockedValue { s in
            guard !s.finishing else { return }
            let out = s.masker.feed(bytes)
            s.accept(out, limit: traceLimit)
        }
    }

    /// Keeps a just-received job alive while preparing it: `PUT state=pending`. Call repeatedly.
    public func keepAlivePending() async { await put(state: .pending) }

    /// Tells GitLab the job has started: `PUT state=running` (the commit of the two-phase job
    /// commit). The trace is sent only once this succeeded; `finish` commits first if needed.
    public func markRunning() async { await put(state: .running) }

    /// True once GitLab accepted `state=running`.
    public var isCommitted: Bool { state.withLockedValue { $0.committed } }

    private func put(state jobState: JobState) async {
        guard !state.withLockedValue({ $0.gone }) else { return }
        do {
            let reply = try await client.send(
                .PUT, "/api/v4/jobs/\(payload.id)",
                json: ["token": payload.token, "state": jobState.rawValue])
            observe(reply)
            if jobState == .running, reply.status == 200 { state.withLockedValue { $0.committed = true } }
            if reply.status == 403 || reply.status == 404 { markGone(status: reply.status) }
        } catch {
            logger.warning("job update (\(jobState.rawValue)) failed: \(error)")
        }
    }

    /// Reads `Job-Status` and the update interval from an answer; tells the handlers.
    func observe(_ reply: Reply) {
        var interval: Double?
        if let text = reply.headers.first(name: "X-GitLab-Trace-Update-Interval"), let value = Double(text),
            value > 0
        {
            interval = min(value, options.maxUpdateInterval)
        }
        let status = reply.headers.first(name: "Job-Status").map(RemoteJobStatus.init(header:))
        setRemote(status: status, interval: interval)
    }

    func setRemote(status: RemoteJobStatus?, interval: Double?) {
        let notify: (RemoteJobStatus, [@Sendable (RemoteJobStatus) -> Void])? = state.withLockedValue { s in
            s.lastContact = Date()
            if let interval { s.updateInterval = interval }
            guard let status, status != s.remoteStatus else { return nil }
            s.remoteStatus = status
            return (status, s.handlers)
        }
        if let (status, handlers) = notify {
            logger.info("GitLab reports the job \(status)")
            for handler in handlers { handler(status) }
        }
    }

    /// The job token no longer works (403) or the job is gone (404): stop talking about it.
    func markGone(status: Int) {
        state.withLockedValue { $0.gone = true }
        logger.warning("GitLab answered \(status) for job \(payload.id): treating it as canceled")
        setRemote(status: .canceled, interval: nil)
    }
}

/// The session's mutable state, behind a lock.
struct SessionState: Sendable {
    var masker: TraceMasker
    var trace: [UInt8] = []
    /// Job output bytes taken into `trace` (the limit notice not counted).
    var accepted = 0
    var limitHit = false
    /// Bytes of `trace` GitLab has confirmed.
    var sentOffset = 0
    var remoteStatus: RemoteJobStatus = .running
    var handlers: [@Sendable (RemoteJobStatus) -> Void] = []
    var updateInterval: Double
    var lastContact = Date()
    var gone = false
    var finishing = false
    /// GitLab accepted `state=running`: trace PATCHes are allowed.
    var committed = false
    var streamer: Task<Void, Never>?
    var stopStreaming = false
    var streamerSleeping = false

    init(masker: TraceMasker, updateInterval: Double) {
        self.masker = masker
        self.updateInterval = updateInterval
    }

    mutating func accept(_ out: [UInt8], limit: Int) {
        guard !limitHit, !out.isEmpty else { return }
        let room = limit - accepted
        if out.count <= room {
            trace += out
            accepted += out.count
            return
        }
        trace += out.prefix(max(0, room))
        accepted = limit
        limitHit = true
        trace += Array(
            "\n[airlock] The job log exceeded its limit of \(limit) bytes: the job goes on, but no more output is collected.\n"
                .utf8)
    }
}

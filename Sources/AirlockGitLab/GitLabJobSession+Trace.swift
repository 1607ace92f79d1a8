import Foundation
import NIOHTTP1

extension GitLabJobSession {
    /// Starts the background task that PATCHes new output to
    /// `/api/v4/jobs/:id/trace` every `X-GitLab-Trace-Update-Interval` seconds. Idempotent.
    public func startTraceStreaming() {
        state.withLockedValue { s in
            guard s.streamer == nil, !s.stopStreaming else { return }
            s.streamer = Task { [self] in await streamLoop() }
        }
    }

    private func streamLoop() async {
        while true {
            let before = state.withLockedValue { $0.sentOffset }
            guard await sendPending() else { return }
            let (idle, interval, committed) = state.withLockedValue { s in
                (
                    s.sentOffset == before && Date().timeIntervalSince(s.lastContact) >= options.keepAliveInterval,
                    s.updateInterval, s.committed
                )
            }
            // Keep-alive without new output, to learn of a cancel; never commits by itself.
            if idle { await (committed ? markRunning() : keepAlivePending()) }
            let proceed = state.withLockedValue { s -> Bool in
                guard !s.stopStreaming, !s.gone else { return false }
                s.streamerSleeping = true
                return true
            }
            guard proceed else { return }
            try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
            let stop = state.withLockedValue { s -> Bool in
                s.streamerSleeping = false
                return s.stopStreaming
            }
            if stop { return }
        }
    }

    /// Stops the background trace task without finishing the job (when the agent abandons the
    /// session). `finish` does this itself. Idempotent.
    public func stopTraceStreaming() async { await stopStreaming() }

    /// Stops the streaming task (waking it if it sleeps, letting a PATCH in flight finish).
    func stopStreaming() async {
        let (task, sleeping) = state.withLockedValue { s in
            s.stopStreaming = true
            return (s.streamer, s.streamerSleeping)
        }
        if sleeping { task?.cancel() }
        await task?.value
    }

    /// PATCHes everything GitLab has not confirmed (up to the trace's current end), in chunks of
    /// at most `chunkSize`.
    ///
    /// Returns false when the job is gone (403/404). On 416 it resumes from the offset in the
    /// answer's `Range` (`0-<bytes GitLab has>`). Other failures leave the rest for next time.
    @discardableResult
    func sendPending() async -> Bool {
        // Only what is there now: output arriving meanwhile waits for the next interval.
        let target = state.withLockedValue { $0.trace.count }
        while true {
            let next: (Int, [UInt8])? = state.withLockedValue { s in
                // GitLab takes no trace for a job not committed (still pending).
                guard !s.gone, s.committed, s.sentOffset < target else { return nil }
                let end = min(target, s.sentOffset + options.chunkSize)
                return (s.sentOffset, Array(s.trace[s.sentOffset..<end]))
            }
            guard let (offset, chunk) = next else { return !state.withLockedValue { $0.gone } }
            var headers = HTTPHeaders()
            headers.add(name: "JOB-TOKEN", value: payload.token)
            headers.add(name: "Content-Type", value: "text/plain")
            headers.add(name: "Content-Range", value: "\(offset)-\(offset + chunk.count - 1)")
            let reply: Reply
            do {
                reply = try await client.send(
                    .PATCH, "/api/v4/jobs/\(payload.id)/trace", headers: headers, body: chunk)
            } catch {
                if !(error is CancellationError) { logger.warning("trace upload failed: \(error)") }
                return true
            }
            observe(reply)
            let remote = Self.rangeEnd(reply.headers.first(name: "Range"))
            switch reply.status {
            case 200, 202:
                state.withLockedValue { s in
                    s.sentOffset = min(s.trace.count, remote ?? (offset + chunk.count))
                }
            case 416:
                guard let remote, remote != offset else {
                    logger.warning("GitLab refused trace range \(offset) without a usable Range header")
                    return true
                }
                logger.info("GitLab holds \(remote) trace bytes, not \(offset): resending from there")
                state.withLockedValue { s in s.sentOffset = min(s.trace.count, remote) }
            case 403, 404:
                markGone(status: reply.status)
                return false
            default:
                logger.warning("trace upload answered \(reply.status): \(reply.excerpt)")
                return true
            }
        }
    }

    /// `0-1234` → 1234.
    static func rangeEnd(_ header: String?) -> Int? {
        guard let header, let dash = header.lastIndex(of: "-") else { return nil }
        return Int(header[header.index(after: dash)...].trimmingCharacters(in: .whitespaces))
    }

    /// Sends the rest of the trace and the job's final state. Commits the job first
    /// (`state=running`) if `markRunning` was not called or failed.
    ///
    /// The update carries `output.checksum` (`crc32:…` of the whole trace) and `output.bytesize`.
    /// 202 → asks again after `X-GitLab-Trace-Update-Interval` (or back-off); 412 (GitLab's trace
    /// differs) → sends the whole trace again from byte 0, then asks again; 403/404 → stops
    /// (the job is gone). Throws when GitLab cannot be reached or never accepts.
    public func finish(state jobState: JobState, failureReason: FailureReason?, exitCode: Int32?) async throws {
        state.withLockedValue { s in
            s.finishing = true
            let rest = s.masker.flush()
            s.accept(rest, limit: traceLimit)
        }
        await stopStreaming()
        var attempt = 0
        while true {
            attempt += 1
            if !isCommitted { await markRunning() }
            guard await sendPending() else { return }
            let trace = state.withLockedValue { $0.trace }
            var body: [String: Any] = [
                "token": payload.token, "state": jobState.rawValue,
                "output": ["checksum": gitLabChecksum(trace), "bytesize": trace.count],
            ]
            if jobState == .failed {
                body["failure_reason"] = supported(failureReason ?? .unknownFailure).rawValue
            }
            if let exitCode { body["exit_code"] = Int(exitCode) }
            let reply = try await client.send(.PUT, "/api/v4/jobs/\(payload.id)", json: body)
            observe(reply)
            let wait: Double
            switch reply.status {
            case 200:
                logger.info("job \(payload.id) finished as \(jobState.rawValue)")
                return
            case 202:
                wait = state.withLockedValue { $0.updateInterval }
            case 412:
                logger.info("GitLab's copy of the trace differs: sending it again from byte 0")
                state.withLockedValue { $0.sentOffset = 0 }
                wait = 0
            case 403, 404:
                markGone(status: reply.status)
                return
            default:
                wait = client.retry.backoff(retry: attempt)
                if attempt >= options.finalUpdateMaxAttempts { throw reply.unexpected }
            }
            if attempt >= options.finalUpdateMaxAttempts {
                throw GitLabError.http(
                    status: reply.status,
                    body: "\(client.host): job \(payload.id)'s final update not accepted after \(attempt) attempts")
            }
            try await client.pause(wait)
        }
    }

    /// `reason`, or `unknown_failure` when this GitLab does not list it as supported.
    func supported(_ reason: FailureReason) -> FailureReason {
        let known = payload.features.failureReasons
        return known.isEmpty || known.contains(reason.rawValue) ? reason : .unknownFailure
    }
}

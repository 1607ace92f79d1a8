import Foundation

extension TestCoordinator {
    // MARK: scripting

    /// Queues a job; the next job request gets it. Returns its id.
    @discardableResult
    public func enqueue(job: JobPayloadBuilder) -> Int {
        enqueue(id: job.id, token: job.token, json: job.jsonBytes())
    }

    /// Queues a job given as raw JSON (possibly malformed on purpose) under `id` and `token`.
    @discardableResult
    public func enqueue(id: Int, token: String, json: [UInt8]) -> Int {
        state.withLockedValue { s in
            s.jobs[id] = JobRecord(id: id, token: token, json: json)
            s.queue.append(id)
            s.lastUpdate += 1
        }
        return id
    }

    /// Revokes a runner token: its job requests and verifications get 403 from now on.
    public func revoke(runnerToken token: String) {
        state.withLockedValue { _ = $0.runnerTokens.remove(token) }
    }

    /// Cancels a job the way GitLab does: `Job-Status: canceling`, then `canceled`.
    public func cancel(jobID: Int) {
        state.withLockedValue { s in
            s.jobs[jobID]?.status = "canceling"
            s.jobs[jobID]?.cancelingAnswersLeft = options.cancelingAnswers
        }
    }

    /// Makes the job's token stop working (as when GitLab drops the job): 403 from now on.
    public func invalidateJobToken(jobID: Int) {
        state.withLockedValue { $0.jobs[jobID]?.token = "glcbt-invalidated" }
    }

    /// Answers the job's next `count` final updates with 202 Accepted.
    public func acceptFinalUpdateLater(jobID: Int, times count: Int) {
        state.withLockedValue { $0.jobs[jobID]?.acceptLater = count }
    }

    /// Loses the job's next trace chunk: answers 202 (without `Range`) but stores nothing, so
    /// the runner's next PATCH starts past GitLab's end and gets 416.
    public func dropNextTraceChunk(jobID: Int) {
        state.withLockedValue { $0.jobs[jobID]?.dropNextChunk = true }
    }

    /// Stores the job's next trace chunk corrupted (first byte flipped), so the final update's
    /// checksum differs and GitLab answers 412.
    public func garbleNextTraceChunk(jobID: Int) {
        state.withLockedValue { $0.jobs[jobID]?.garbleNextChunk = true }
    }

    /// The next `count` requests to `route` get `status` (429, 502, 503…), with `Retry-After`.
    public func failNext(_ route: CoordinatorRoute, count: Int, status: Int, retryAfter: String? = nil) {
        state.withLockedValue {
            $0.injections.append(Injection(route: route, count: count, status: status, retryAfter: retryAfter))
        }
    }

    /// `X-GitLab-Trace-Update-Interval` from now on, in seconds.
    public func setTraceUpdateInterval(seconds: Int) {
        state.withLockedValue { $0.traceUpdateInterval = seconds }
    }

    /// Refuse artifacts larger than `bytes` with 413.
    public func setMaxArtifactSize(_ bytes: Int) {
        state.withLockedValue { $0.maxArtifactSize = bytes }
    }

    // MARK: inspection

    /// Every request answered, in order.
    public var requests: [RequestRecord] { state.withLockedValue { $0.requests } }

    /// Requests to `route`, in order.
    public func requests(_ route: CoordinatorRoute) -> [RequestRecord] {
        requests.filter { $0.route == route }
    }

    /// Every `PUT /api/v4/jobs/:id` for the job, in order.
    public func updates(jobID: Int) -> [JobUpdateRecord] {
        state.withLockedValue { $0.jobs[jobID]?.updates ?? [] }
    }

    /// The trace as GitLab holds it.
    public func trace(jobID: Int) -> [UInt8] {
        state.withLockedValue { $0.jobs[jobID]?.trace ?? [] }
    }

    /// The job's status on the GitLab side (pending, running, canceling, canceled, success, failed).
    public func status(jobID: Int) -> String? {
        state.withLockedValue { $0.jobs[jobID]?.status }
    }

    /// Trace PATCHes received for the job (including refused ones).
    public func tracePatchCount(jobID: Int) -> Int {
        state.withLockedValue { $0.jobs[jobID]?.patchCount ?? 0 }
    }

    /// Waits until the job reaches a final status (success, failed, canceled) or `timeout`
    /// seconds pass; returns the status then.
    public func waitForFinalStatus(jobID: Int, timeout: Double = 30) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = status(jobID: jobID), ["success", "failed", "canceled"].contains(status) {
                return status
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return status(jobID: jobID)
    }

    /// Artifacts uploaded for the job.
    public func artifacts(jobID: Int) -> [UploadedArtifact] {
        state.withLockedValue { $0.jobs[jobID]?.artifacts ?? [] }
    }
}

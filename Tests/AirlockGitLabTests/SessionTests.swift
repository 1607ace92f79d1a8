import Foundation
import GitLabTestCoordinator
import Testing

@testable import AirlockGitLab

@Suite struct SessionTests {
    @Test func twoPhaseAcceptanceThenSuccess() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.keepAlivePending()
            await session.keepAlivePending()
            #expect(h.coordinator.status(jobID: job.id) == "pending")
            await session.markRunning()
            #expect(h.coordinator.status(jobID: job.id) == "running")
            session.appendTrace(bytes("hello\n"))
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let updates = h.coordinator.updates(jobID: job.id)
            #expect(updates.map(\.state) == ["pending", "pending", "running", "success"])
            #expect(updates.last?.answered == 200 && updates.last?.exitCode == 0)
            #expect(h.coordinator.status(jobID: job.id) == "success")
            #expect(text(h.coordinator.trace(jobID: job.id)) == "hello\n")
        }
    }

    @Test func noTraceIsSentBeforeTheCommitAndFinishCommits() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            session.startTraceStreaming()
            session.appendTrace(bytes("preparing\n"))
            #expect(await eventually { h.coordinator.updates(jobID: job.id).count >= 2 }, "keep-alives while pending")
            #expect(h.coordinator.updates(jobID: job.id).allSatisfy { $0.state == "pending" })
            #expect(h.coordinator.requests(.trace).isEmpty)
            #expect(!session.isCommitted)
            try await session.finish(state: .failed, failureReason: .runnerSystemFailure, exitCode: nil)
            let states = h.coordinator.updates(jobID: job.id).map(\.state)
            #expect(Array(states.suffix(2)) == ["running", "failed"])
            #expect(text(h.coordinator.trace(jobID: job.id)) == "preparing\n")
            #expect(h.coordinator.status(jobID: job.id) == "failed")
        }
    }

    @Test func aLegacyRunnerGetsARunningJobAndNoKeepAlive() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            h.coordinator.enqueue(job: job)
            var legacy = Harness.info
            legacy.features["two_phase_job_commit"] = false
            let result = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: legacy, lastUpdate: nil)
            guard case .job(let payload, _) = result else { throw TestFailure("no job") }
            #expect(h.coordinator.status(jobID: job.id) == "running")
            let session = GitLabJobSession(
                client: h.client, payload: payload, maskValues: [], traceLimit: 1 << 20, logger: testLogger,
                options: Harness.fastOptions)
            await session.keepAlivePending()
            #expect(h.coordinator.updates(jobID: job.id).isEmpty, "GitLab refuses state=pending for a running job")
            #expect(h.coordinator.requests(.jobUpdate).last?.status == 400)
            #expect(session.remoteStatus == .running)
        }
    }

    @Test func traceStreamsInChunksOfAtMostOneMiB() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            session.startTraceStreaming()
            var expected: [UInt8] = []
            for i in 0..<3000 {  // ~2.6 MiB of lines
                let line = bytes("line \(i) " + String(repeating: "x", count: 900) + "\n")
                expected += line
                session.appendTrace(line)
            }
            #expect(await eventually { h.coordinator.trace(jobID: job.id).count == expected.count })
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            #expect(h.coordinator.trace(jobID: job.id) == expected)
            #expect(session.traceBytes == expected)
            let patches = h.coordinator.requests(.trace)
            #expect(patches.count >= 3)
            #expect(h.coordinator.tracePatchCount(jobID: job.id) == patches.count)
            #expect(patches.allSatisfy { $0.status == 202 })
        }
    }

    @Test func aLostChunkIsResentAfter416() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            session.startTraceStreaming()
            session.appendTrace(bytes("first line\n"))
            #expect(await eventually { h.coordinator.trace(jobID: job.id).count == 11 })
            h.coordinator.dropNextTraceChunk(jobID: job.id)
            session.appendTrace(bytes("second line, lost on the way\n"))
            #expect(await eventually { h.coordinator.requests(.trace).count >= 2 })
            session.appendTrace(bytes("third line\n"))
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let statuses = h.coordinator.requests(.trace).map(\.status)
            #expect(statuses.contains(416), "the PATCH after the lost one starts past GitLab's end")
            #expect(
                text(h.coordinator.trace(jobID: job.id)) == "first line\nsecond line, lost on the way\nthird line\n")
            #expect(h.coordinator.updates(jobID: job.id).last?.answered == 200)
        }
    }

    @Test func finalUpdateAcceptedLaterIsRepeatedUntil200() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            h.coordinator.acceptFinalUpdateLater(jobID: job.id, times: 2)
            await session.markRunning()
            session.appendTrace(bytes("build failed\n"))
            try await session.finish(state: .failed, failureReason: .scriptFailure, exitCode: 2)
            let finals = h.coordinator.updates(jobID: job.id).filter { $0.state == "failed" }
            #expect(finals.map(\.answered) == [202, 202, 200])
            #expect(finals.last?.failureReason == "script_failure" && finals.last?.exitCode == 2)
            #expect(h.coordinator.status(jobID: job.id) == "failed")
        }
    }

    @Test func checksumMismatchResendsTheWholeTrace() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            session.startTraceStreaming()
            h.coordinator.garbleNextTraceChunk(jobID: job.id)
            session.appendTrace(bytes("alpha\n"))
            #expect(await eventually { !h.coordinator.trace(jobID: job.id).isEmpty })
            session.appendTrace(bytes("beta\n"))
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let finals = h.coordinator.updates(jobID: job.id).filter { $0.state == "success" }
            #expect(finals.map(\.answered) == [412, 200])
            let stored = h.coordinator.trace(jobID: job.id)
            #expect(text(stored) == "alpha\nbeta\n")
            #expect(finals.last?.checksum == gitLabChecksum(stored))
            #expect(finals.last?.checksum == "crc32:" + String(crc32(stored), radix: 16).leftPadded(8))
            #expect(finals.last?.bytesize == stored.count)
        }
    }

    @Test func cancellationThroughJobStatusReachesTheHandler() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            let seen = Recorder<RemoteJobStatus>()
            session.onRemoteStatusChange { seen.append($0) }
            await session.markRunning()
            session.startTraceStreaming()
            session.appendTrace(bytes("working\n"))
            #expect(await eventually { h.coordinator.trace(jobID: job.id).count == 8 })
            h.coordinator.cancel(jobID: job.id)
            #expect(await eventually { seen.values.contains(.canceled) }, "keep-alives carry Job-Status")
            #expect(seen.values.prefix(2) == [.canceling, .canceled])
            #expect(session.remoteStatus == .canceled)
            try await session.finish(state: .failed, failureReason: .jobCanceled, exitCode: nil)
            #expect(h.coordinator.status(jobID: job.id) == "canceled")
        }
    }

    @Test func maskedVariablesAndTokensAreMaskedAcrossSplitWrites() async throws {
        try await Harness.with { h in
            var job = JobPayloadBuilder()
            job.variables = [.init("DEPLOY_PASSWORD", "hunter2-correct-horse", public: false, masked: true)]
            let session = try await h.session(for: job, maskValues: ["extra-secret-42"])
            await session.markRunning()
            let output =
                "pass=hunter2-correct-horse tok=glpat-AbCdEf0123456789xyz0 also extra-secret-42\n"
                + "runner glrt-t1_0123456789abcdefghij and \(job.token) end\npartial glcbt-64_zzzzzzzzzzzz"
            let raw = bytes(output)
            var position = 0
            for size in [7, 3, 11, 1, 19, 5, 13, 2, 17] {  // split everywhere, mid-secret and mid-token
                let end = min(raw.count, position + size)
                session.appendTrace(Array(raw[position..<end]))
                position = end
            }
            session.appendTrace(Array(raw[position...]))
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let stored = text(h.coordinator.trace(jobID: job.id))
            #expect(
                stored
                    == "pass=[MASKED] tok=glpat-[MASKED] also [MASKED]\n"
                    + "runner glrt-[MASKED] and [MASKED] end\npartial glcbt-[MASKED]")
            for secret in ["hunter2", "AbCdEf0123", "extra-secret", "0123456789abc", job.token, "zzzz"] {
                #expect(!stored.contains(secret))
            }
        }
    }

    @Test func theTraceLimitAppendsOneNoticeAndDropsTheRest() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job, traceLimit: 100)
            await session.markRunning()
            for i in 0..<50 { session.appendTrace(bytes("line number \(i)\n")) }
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let stored = text(h.coordinator.trace(jobID: job.id))
            #expect(stored.hasPrefix("line number 0\nline number 1\n"))
            #expect(stored.components(separatedBy: "exceeded its limit of 100 bytes").count == 2)
            #expect(!stored.contains("line number 49"))
            #expect(stored.utf8.count < 100 + 200)
        }
    }

    @Test func artifactsArriveIntact() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            let zip = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-\(job.id).zip").path
            try Data(zip).write(to: URL(fileURLWithPath: path))
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await session.uploadArtifacts(zipPath: path, name: "artifacts.zip", expireIn: "3 days")
            let stored = h.coordinator.artifacts(jobID: job.id)
            #expect(stored.count == 1)
            #expect(stored.first?.bytes == zip)
            #expect(stored.first?.filename == "artifacts.zip")
            #expect(
                stored.first?.format == "zip" && stored.first?.type == "archive" && stored.first?.expireIn == "3 days")
            h.coordinator.setMaxArtifactSize(1000)
            await #expect {
                try await session.uploadArtifacts(zipPath: path, name: "big.zip")
            } throws: { error in
                guard case .http(413, let body) = error as? GitLabError else { return false }
                return body.contains("too large") && body.contains("big.zip")
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

@Suite struct SessionProtocolTests {
    @Test func chunksAreAtMostOneMiBWithInclusiveContentRanges() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            let line = bytes(String(repeating: "y", count: 4095) + "\n")
            for _ in 0..<700 { session.appendTrace(line) }  // 2.8 MiB, all pending at once
            session.startTraceStreaming()
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            let patches = h.coordinator.requests(.trace)
            #expect(patches.count == 3)
            #expect(patches.allSatisfy { $0.bodySize <= 1 << 20 && $0.bodySize > 0 })
            var offset = 0
            for patch in patches {
                #expect(patch.contentRange == "\(offset)-\(offset + patch.bodySize - 1)")
                offset += patch.bodySize
            }
            #expect(offset == 700 * 4096)
            #expect(h.coordinator.trace(jobID: job.id).count == 700 * 4096)
        }
    }

    @Test func theTraceUpdateIntervalFromGitLabIsObeyed() async throws {
        var options = TestCoordinator.Options()
        options.traceUpdateInterval = 1
        try await Harness.with(options: options) { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()  // learns the 1 s interval
            session.startTraceStreaming()
            for i in 0..<12 {
                session.appendTrace(bytes("tick \(i)\n"))
                try await Task.sleep(nanoseconds: 100_000_000)
            }
            let patches = h.coordinator.requests(.trace).map(\.at)
            #expect(patches.count >= 1 && patches.count <= 3, "about one PATCH a second, not one per 50 ms")
            for (a, b) in zip(patches, patches.dropFirst()) { #expect(b.timeIntervalSince(a) >= 0.9) }
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            #expect(h.coordinator.trace(jobID: job.id).count == session.traceBytes.count)
        }
    }

    @Test func aRevokedJobTokenCountsAsCanceled() async throws {
        try await Harness.with { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            let seen = Recorder<RemoteJobStatus>()
            session.onRemoteStatusChange { seen.append($0) }
            await session.markRunning()
            session.startTraceStreaming()
            h.coordinator.invalidateJobToken(jobID: job.id)
            session.appendTrace(bytes("nobody hears this\n"))
            #expect(await eventually { seen.values == [.canceled] })
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            #expect(h.coordinator.updates(jobID: job.id).map(\.state) == ["running"], "no final update after 403")
            #expect(h.coordinator.requests(.trace).map(\.status) == [403])
        }
    }

    @Test func anUnsupportedFailureReasonIsSentAsUnknown() async throws {
        try await Harness.with { h in
            var job = JobPayloadBuilder()
            job.failureReasons = ["unknown_failure", "script_failure"]
            let session = try await h.session(for: job)
            await session.markRunning()
            try await session.finish(state: .failed, failureReason: .jobExecutionTimeout, exitCode: nil)
            #expect(h.coordinator.updates(jobID: job.id).last?.failureReason == "unknown_failure")
        }
    }
}

@Suite struct SessionRecoveryTests {
    @Test func traceAndFinalUpdateSurviveServerErrors() async throws {
        let clock = RecordingClock()
        try await Harness.with(clock: clock) { h in
            let job = JobPayloadBuilder()
            let session = try await h.session(for: job)
            await session.markRunning()
            h.coordinator.failNext(.trace, count: 2, status: 502)
            h.coordinator.failNext(.jobUpdate, count: 1, status: 503, retryAfter: "1")
            session.startTraceStreaming()
            session.appendTrace(bytes("one\ntwo\n"))
            #expect(await eventually { h.coordinator.trace(jobID: job.id).count == 8 })
            let before = clock.sleeps.count
            try await session.finish(state: .success, failureReason: nil, exitCode: 0)
            #expect(clock.sleeps.dropFirst(before).contains(1), "Retry-After: 1 on the final update")
            #expect(await h.coordinator.waitForFinalStatus(jobID: job.id, timeout: 1) == "success")
            #expect(text(h.coordinator.trace(jobID: job.id)) == "one\ntwo\n")
            #expect(h.coordinator.requests(.trace).map(\.status).prefix(3) == [502, 502, 202])
        }
    }
}

import AsyncHTTPClient
import Foundation
import GitLabTestCoordinator
import Testing

@testable import AirlockGitLab

@Suite struct ClientTests {
    @Test func verifyAcceptsTheRunnerTokenAndRefusesOthers() async throws {
        try await Harness.with { h in
            let verification = try await h.client.verifyRunner(token: h.coordinator.runnerToken, systemID: "s_1")
            #expect(verification.id == 7)
            await #expect {
                _ = try await h.client.verifyRunner(token: "glrt-wrong", systemID: "s_1")
            } throws: { error in
                guard case .forbidden(let message) = error as? GitLabError else { return false }
                return message.contains("127.0.0.1") && message.contains("runner token")
            }
        }
    }

    @Test func legacyRegistrationReturnsAWorkingToken() async throws {
        try await Harness.with { h in
            let (id, token) = try await h.client.registerRunner(
                registrationToken: TestCoordinator.Options().registrationToken, description: "airlock test",
                tags: ["linux", "airlock"], runUntagged: true, info: Harness.info)
            #expect(id > 0)
            _ = try await h.client.verifyRunner(token: token, systemID: "s_1")
            let register = h.coordinator.requests(.register)
            #expect(register.last?.json["tag_list"] == "linux,airlock")
        }
    }

    @Test func noJobCarriesLastUpdateIntoTheNextLongPoll() async throws {
        var options = TestCoordinator.Options()
        options.longPoll = 0.4
        try await Harness.with(options: options) { h in
            let first = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            guard case .noJob(let lastUpdate) = first, let lastUpdate else {
                Issue.record("expected noJob with a last update, got \(first)")
                return
            }
            let started = Date()
            let second = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: lastUpdate)
            let held = Date().timeIntervalSince(started)
            guard case .noJob = second else {
                Issue.record("expected noJob, got \(second)")
                return
            }
            #expect(held >= 0.35, "the coordinator holds a request whose last_update is current")
            let requests = h.coordinator.requests(.jobRequest)
            #expect(requests.count == 2)
            #expect(requests[0].json["last_update"] == nil)
            #expect(requests[1].json["last_update"] == lastUpdate)
            #expect(requests[1].json["system_id"] == "s_1")
        }
    }

    @Test func aJobIsDecoded() async throws {
        try await Harness.with { h in
            var job = JobPayloadBuilder(script: ["make", "make test"])
            job.afterScript = ["echo cleanup"]
            job.variables = [
                .init("PLAIN", "1"), .init("SECRET", "s3cr3t-value", public: false, masked: true),
                .init("KUBECONFIG", "apiVersion: v1", file: true), .init("RAW", "$NOT_EXPANDED", raw: true),
            ]
            job.artifactPaths = ["build/", "*.log"]
            job.image = "alpine:3.20"
            let id = h.coordinator.enqueue(job: job)
            let result = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            guard case .job(let payload, let raw) = result else {
                Issue.record("expected a job, got \(result)")
                return
            }
            #expect(payload.id == id)
            #expect(payload.token == job.token)
            #expect(raw == job.jsonBytes())
            #expect(payload.jobInfo.name == "build" && payload.jobInfo.projectId == 42)
            #expect(
                payload.gitInfo.sha == job.sha && payload.gitInfo.depth == 20 && payload.gitInfo.refType == "branch")
            #expect(payload.gitInfo.refspecs.count == 2)
            #expect(payload.runnerInfo.timeout == 3600)
            #expect(payload.steps.map(\.name) == ["script", "after_script"])
            #expect(payload.steps[0].script == ["make", "make test"] && payload.steps[1].when == "always")
            let byKey = Dictionary(uniqueKeysWithValues: payload.variables.map { ($0.key, $0) })
            #expect(byKey["SECRET"]?.masked == true && byKey["SECRET"]?.public == false)
            #expect(byKey["KUBECONFIG"]?.file == true && byKey["RAW"]?.raw == true)
            #expect(payload.maskedValues.contains("s3cr3t-value"))
            #expect(payload.artifacts.first?.paths == ["build/", "*.log"])
            #expect(payload.artifacts.first?.expireIn == "1 week" && payload.artifacts.first?.format == "zip")
            #expect(payload.image?.name == "alpine:3.20")
            #expect(payload.features.failureReasons.contains("script_failure"))
            #expect(h.coordinator.requests(.jobRequest).first?.status == 201)
        }
    }

    @Test func aMalformedPayloadIsReportedAsMalformed() async throws {
        try await Harness.with { h in
            h.coordinator.enqueue(id: 9001, token: "glcbt-x", json: Array(#"{"id": "nine", "token": 5}"#.utf8))
            await #expect {
                _ = try await h.client.requestJob(
                    token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            } throws: { error in
                guard case .malformed(let message) = error as? GitLabError else { return false }
                return message.contains("127.0.0.1") && message.contains("id")
            }
        }
    }

    @Test func aJobWithWronglyTypedStepsIsFailedAsRunnerSystemFailure() async throws {
        try await Harness.with { h in
            let json = #"{"id": 9002, "token": "glcbt-y", "job_info": {"name": "x"}, "steps": "make"}"#
            h.coordinator.enqueue(id: 9002, token: "glcbt-y", json: Array(json.utf8))
            await #expect {
                _ = try await h.client.requestJob(
                    token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            } throws: { error in
                guard case .malformed(let message) = error as? GitLabError else { return false }
                return message.contains("steps") && message.contains("runner_system_failure")
            }
            let updates = h.coordinator.updates(jobID: 9002)
            #expect(updates.map(\.state) == ["running", "failed"], "committed, then failed")
            #expect(updates.last?.failureReason == "runner_system_failure" && updates.last?.answered == 200)
            #expect(text(h.coordinator.trace(jobID: 9002)).hasPrefix("ERROR: Airlock cannot read this job"))
        }
    }

    @Test func aRevokedRunnerTokenIsForbidden() async throws {
        try await Harness.with { h in
            h.coordinator.revoke(runnerToken: h.coordinator.runnerToken)
            await #expect {
                _ = try await h.client.requestJob(
                    token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            } throws: { error in
                guard case .forbidden(let message) = error as? GitLabError else { return false }
                return message.contains("revoked")
            }
            #expect(h.coordinator.requests(.jobRequest).map(\.status) == [403], "403 is not retried")
        }
    }

    @Test func retryAfterIsHonouredOn429And503() async throws {
        let clock = RecordingClock()
        try await Harness.with(clock: clock) { h in
            h.coordinator.failNext(.jobRequest, count: 1, status: 429, retryAfter: "1")
            h.coordinator.failNext(.jobRequest, count: 1, status: 503, retryAfter: "1")
            let result = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            guard case .noJob = result else {
                Issue.record("expected noJob after the retries, got \(result)")
                return
            }
            #expect(h.coordinator.requests(.jobRequest).map(\.status) == [429, 503, 204])
            // Two Retry-After: 1 waits (the base back-off is only 50 ms), on the injected clock.
            #expect(clock.sleeps == [1, 1])
        }
    }

    @Test func serverErrorsAreRetriedWithBackOffThenReported() async throws {
        try await Harness.with { h in
            h.coordinator.failNext(.jobRequest, count: 10, status: 502)
            await #expect {
                _ = try await h.client.requestJob(
                    token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            } throws: { error in
                guard case .http(let status, _) = error as? GitLabError else { return false }
                return status == 502
            }
            #expect(h.coordinator.requests(.jobRequest).count == Harness.fastRetry.maxAttempts)
        }
    }

    @Test func aClosedPortIsUnreachableNamingTheHost() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once (a freed
        // ephemeral port could be taken again by a coordinator of a test running in parallel).
        let url = "http://127.0.0.1:1"
        let http = makeHTTPClient()
        let clock = RecordingClock()
        let client = GitLabClient(
            baseURL: url, http: http, retry: Harness.fastRetry, logger: testLogger, requestTimeout: .seconds(5),
            clock: clock)
        await #expect {
            _ = try await client.requestJob(token: "glrt-x", systemID: "s_1", info: Harness.info, lastUpdate: nil)
        } throws: { error in
            guard case .unreachable(let host, _) = error as? GitLabError else { return false }
            return host == url.replacingOccurrences(of: "http://", with: "")
                && "\(error)".contains(host) && "\(error)".contains("fix:")
        }
        #expect(clock.sleeps == [0.05, 0.1, 0.2], "three back-offs before giving up")
        try await http.shutdown()
    }
}

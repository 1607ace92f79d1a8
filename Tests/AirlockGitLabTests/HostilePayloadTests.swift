import GitLabTestCoordinator
import Testing

@testable import AirlockGitLab

/// A job payload nested far deeper than any real one is refused before it is decoded, and the
/// job is failed as runner_system_failure (its id and token are read without parsing the rest).
@Suite struct HostilePayloadTests {
    @Test func aPayloadNestedFiveThousandDeepIsRefusedAndTheJobFailed() async throws {
        try await Harness.with { h in
            let nested = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
            let json = #"{"id": 9003, "token": "glcbt-z", "job_info": {"name": "x"}, "variables": "# + nested + "}"
            h.coordinator.enqueue(id: 9003, token: "glcbt-z", json: Array(json.utf8))
            await #expect {
                _ = try await h.client.requestJob(
                    token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            } throws: { error in
                guard case .malformed(let message) = error as? GitLabError else { return false }
                return message.contains("job payload:1:") && message.contains("nesting deeper than 64 levels")
                    && message.contains("runner_system_failure")
            }
            let updates = h.coordinator.updates(jobID: 9003)
            #expect(updates.map(\.state) == ["running", "failed"], "committed, then failed")
            #expect(updates.last?.failureReason == "runner_system_failure")
            #expect(text(h.coordinator.trace(jobID: 9003)).contains("nesting deeper than 64 levels"))

            // The client still serves the next, ordinary job.
            let id = h.coordinator.enqueue(job: JobPayloadBuilder())
            let next = try await h.client.requestJob(
                token: h.coordinator.runnerToken, systemID: "s_1", info: Harness.info, lastUpdate: nil)
            guard case .job(let payload, _) = next else {
                Issue.record("expected the ordinary job, got \(next)")
                return
            }
            #expect(payload.id == id)
        }
    }
}

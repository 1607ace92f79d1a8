import AirlockTestSupport
import Foundation
import GitLabTestCoordinator
import Testing

extension AgentIntegration.AgentGitLab {
    /// C1 through a coordinator: `artifacts: paths:` get the same rules as `outputs:`.
    @Test("C1: GitLab artifact paths with '..' or a .[.] glob through a planted symlink touch no host file")
    func artifactPathsCannotEscape() async throws {
        let s = TestState()
        let v = try HostVictim(s)
        let (url, sha) = try repository(s)
        let c = try await TestCoordinator.start()
        let agent = SpoolAgent(state: s)
        defer { agent.stop() }
        let plant = [
            "mkdir -p d r/s r/d/x", "ln -s \(v.dir) d/x", "ln -s r/s q", "echo evil > r/d/x/target",
            "echo evil > r/d/x/evil",
        ]
        var ids: [Int] = []
        for paths in [["d", "q/../d/x/evil"], ["d", "q/.[.]/d/x/*"]] {
            var job = JobPayloadBuilder(script: plant)
            job.repoURL = url
            job.sha = sha
            job.depth = 0
            job.artifactPaths = paths
            ids.append(c.enqueue(job: job))
        }
        try agent.startAgent(["--config", try config(s, c.baseURL, token: c.runnerToken)])
        for id in ids {
            let final = await finalStatus(c, id, timeout: 60)
            let trace = String(decoding: c.trace(jobID: id), as: UTF8.self)
            #expect(final == "failed", "agent log:\n\(agent.log)\ntrace:\n\(trace)")
            #expect(trace.contains("artifacts:paths[1]") || trace.contains("outside the workspace"), "\(trace)")
        }
        agent.stop()
        await c.shutdown()
        v.expectUntouched()
        Leftovers.expectNone(s)
    }
}

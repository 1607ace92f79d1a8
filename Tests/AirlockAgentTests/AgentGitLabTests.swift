import AirlockGitLab
import AirlockProvenance
import AirlockTestSupport
import Foundation
import GitLabTestCoordinator
import Testing

extension AgentIntegration {
    /// The agent against a test coordinator that follows GitLab's runner API.
    @Suite("agent: GitLab coordinator (root)", .serialized)
    struct AgentGitLab {
        /// A local repository with one commit; returns its file:// URL and commit id.
        func repository(_ s: TestState) throws -> (url: String, sha: String) {
            let dir = s.dir + "/repo"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "hello gitlab\n".write(toFile: dir + "/msg.txt", atomically: true, encoding: .utf8)
            // An attack: a repository that ships a profile named like the agent's, granting host
            // network. Jobs from a coordinator must never pick their own sandbox.
            try "name: default\nextends: network-host\n".write(
                toFile: dir + "/default.yaml", atomically: true, encoding: .utf8)
            let git = { (args: [String]) throws -> String in
                let r = try Run.capture(
                    ["/usr/bin/git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"] + args)
                #expect(r.status == 0, "git \(args): \(r.stderr)")
                return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            _ = try git(["init", "-q", "-b", "main"])
            _ = try git(["add", "msg.txt", "default.yaml"])
            _ = try git(["commit", "-q", "-m", "first"])
            let head = try git(["rev-parse", "HEAD"])
            // The agent's git runs as nobody, and git only serves repositories their user owns.
            #expect(try Run.capture(["/bin/chown", "-R", "65534:65534", dir]).status == 0)
            return ("file://" + dir, head)
        }

        func config(_ s: TestState, _ url: String, token: String, extra: String = "") throws -> String {
            let path = s.dir + "/agent.yaml"
            try """
            name: t1
            concurrency: 2
            gitlab:
              url: \(url)
              token: \(token)
              system_id: s_000000000001
              poll_timeout: 10s
            \(extra)
            """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// The job's state once the runner reported it finished (success/failed), or nil.
        func finalStatus(_ c: TestCoordinator, _ id: Int, timeout: Double) async -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let last = c.updates(jobID: id).last, ["success", "failed"].contains(last.state),
                    last.answered == 200
                {
                    return last.state
                }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
            return nil
        }

        func unzip(_ bytes: [UInt8], into dir: String) throws {
            let zip = dir + ".zip"
            try Data(bytes).write(to: URL(fileURLWithPath: zip))
            let r = try Run.capture([
                "/usr/bin/python3", "-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
                zip, dir,
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }

        @Test func jobEndToEndTraceChecksumArtifactsAndProvenance() async throws {
            let s = TestState()
            let (url, sha) = try repository(s)
            let c = try await TestCoordinator.start()
            var job = JobPayloadBuilder(script: [
                "tr a-z A-Z < msg.txt > out.txt", "echo secret=$DEPLOY_KEY", "cat \"$SETTINGS\"",
                "echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\\n' ,)",
            ])
            job.repoURL = url
            job.sha = sha
            job.depth = 0
            job.afterScript = ["echo after-script-ran"]
            job.artifactPaths = ["out.txt"]
            job.variables = [
                .init("DEPLOY_KEY", "s3cr3t-deploy-value", public: false, masked: true),
                .init("SETTINGS", "setting=on", file: true),
            ]
            let id = c.enqueue(job: job)
            let agent = SpoolAgent(state: s)
            let port = 21000 + Int(getpid() % 20000)
            try agent.startAgent([
                "--config", try config(s, c.baseURL, token: c.runnerToken), "--metrics", "127.0.0.1:\(port)",
            ])
            let final = await finalStatus(c, id, timeout: 60)
            let metrics = (try? Run.capture(["/usr/bin/curl", "-sf", "http://127.0.0.1:\(port)/metrics"]).stdout) ?? ""
            agent.stop()
            await c.shutdown()
            #expect(
                final == "success",
                "agent log:\n\(agent.log)\ntrace:\n\(String(decoding: c.trace(jobID: id), as: UTF8.self))")

            #expect(
                metrics.contains("airlock_api_requests_total{endpoint=\"/api/v4/jobs/request\",status=\"201\"} 1"),
                "\(metrics)")
            #expect(metrics.contains("endpoint=\"/api/v4/jobs/:id/trace\""))
            let trace = c.trace(jobID: id)
            let text = String(decoding: trace, as: UTF8.self)
            #expect(text.contains("$ tr a-z A-Z < msg.txt > out.txt"))
            #expect(text.contains("secret=[MASKED]"))
            #expect(!text.contains("s3cr3t"))
            #expect(text.contains("setting=on"))
            #expect(text.contains("ifaces=lo,\n"), "the repository's own profile must not apply")
            #expect(text.contains("after-script-ran"))
            let updates = c.updates(jobID: id)
            #expect(updates.first?.state == "pending")
            #expect(updates.contains { $0.state == "running" })
            let last = try #require(updates.last)
            #expect(last.state == "success")
            #expect(last.checksum == gitLabChecksum(trace))
            #expect(last.bytesize == trace.count)

            let artifact = try #require(c.artifacts(jobID: id).first)
            let dir = s.dir + "/artifact"
            try unzip(artifact.bytes, into: dir)
            #expect(try String(contentsOfFile: dir + "/out.txt", encoding: .utf8) == "HELLO GITLAB\n")
            let envelope = try #require(
                try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix(".intoto.jsonl") })
            let v = try Run.capture(
                [
                    Host.airlock, "verify", "--provenance", dir + "/" + envelope, "--key",
                    s.dir + "/keys/" + KeyFiles.publicKeyName, dir + "/out.txt",
                ], env: s.env)
            #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
            // The masked value is recorded by name only.
            #expect(!(try String(contentsOfFile: dir + "/" + envelope, encoding: .utf8)).contains("s3cr3t"))
            #expect(agent.inflight.isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: s.dir + "/agents/t1/builds")) ?? [] == [])
            Leftovers.expectNone(s)
        }

        @Test func gitFetchesWithoutRootPrivileges() async throws {
            let s = TestState()
            let (url, sha) = try repository(s)
            // Readable by root only: an unprivileged git cannot clone it (git as root could).
            #expect(try Run.capture(["/bin/chown", "-R", "0:0", s.dir + "/repo"]).status == 0)
            #expect(chmod(s.dir + "/repo", 0o700) == 0)
            let c = try await TestCoordinator.start()
            var job = JobPayloadBuilder(script: ["cat msg.txt"])
            job.repoURL = url
            job.sha = sha
            let id = c.enqueue(job: job)
            let agent = SpoolAgent(state: s)
            try agent.startAgent(["--config", try config(s, c.baseURL, token: c.runnerToken)])
            let final = await finalStatus(c, id, timeout: 60)
            agent.stop()
            await c.shutdown()
            let text = String(decoding: c.trace(jobID: id), as: UTF8.self)
            #expect(final == "failed", "\(text)")
            #expect(c.updates(jobID: id).last?.failureReason == "runner_system_failure")
            #expect(text.contains("git clone") && !text.contains("hello gitlab"), "\(text)")
            Leftovers.expectNone(s)
        }

        @Test func cancelingRunsTheAfterScriptAndReportsCanceled() async throws {
            let s = TestState()
            let c = try await TestCoordinator.start()
            var job = JobPayloadBuilder(script: ["echo started", "sleep 60", "echo not-reached"])
            job.repoURL = ""
            job.afterScript = ["echo after-cancel"]
            let id = c.enqueue(job: job)
            let agent = SpoolAgent(state: s)
            try agent.startAgent(["--config", try config(s, c.baseURL, token: c.runnerToken)])
            let t0 = Date()
            var started = false
            for _ in 0..<300 where !started {
                started = String(decoding: c.trace(jobID: id), as: UTF8.self).contains("started")
                if !started { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(started, "agent log:\n\(agent.log)")
            c.cancel(jobID: id)
            // GitLab moves the job to canceled; the runner stops the script, runs the after-script,
            // streams its output and reports the job failed (job_canceled) while its token works.
            #expect(SpoolAgent.wait(30) { agent.log.contains("job finished") }, "\(agent.log)")
            let text = String(decoding: c.trace(jobID: id), as: UTF8.self)
            agent.stop()
            await c.shutdown()
            #expect(["canceled", "failed"].contains(c.status(jobID: id) ?? ""), "\(c.status(jobID: id) ?? "nil")")
            #expect(Date().timeIntervalSince(t0) < 40)
            #expect(text.contains("after-cancel"), "\(text)")
            #expect(!text.contains("not-reached"))
            #expect(agent.log.contains("state=canceled"))
            Leftovers.expectNone(s)
        }

        @Test func imagesAreRefusedClearlyAndTheAgentKeepsServing() async throws {
            let s = TestState()
            let c = try await TestCoordinator.start()
            var refused = JobPayloadBuilder(script: ["echo hi"])
            refused.repoURL = ""
            refused.image = "ruby:3.3"
            var mapped = JobPayloadBuilder(script: ["echo mapped-ok"])
            mapped.repoURL = ""
            mapped.image = "debian:12"
            var plain = JobPayloadBuilder(script: ["echo plain-ok"])
            plain.repoURL = ""
            let ids = [refused, mapped, plain].map { c.enqueue(job: $0) }
            let agent = SpoolAgent(state: s)
            try agent.startAgent([
                "--config", try config(s, c.baseURL, token: c.runnerToken, extra: "  images: {\"debian:12\": default}"),
            ])
            var finals: [String?] = []
            for id in ids { finals.append(await finalStatus(c, id, timeout: 60)) }
            agent.stop()
            await c.shutdown()
            #expect(finals == ["failed", "success", "success"], "\(agent.log)")
            #expect(c.updates(jobID: ids[0]).last?.failureReason == "runner_unsupported")
            #expect(String(decoding: c.trace(jobID: ids[0]), as: UTF8.self).contains("image 'ruby:3.3' is not mapped"))
            Leftovers.expectNone(s)
        }

        @Test func malformedPayloadFailsThatJobAndTheAgentKeepsServing() async throws {
            let s = TestState()
            let c = try await TestCoordinator.start()
            let bad = c.enqueue(
                id: 777, token: "glcbt-64_bad-payload-token",
                json: Array(#"{"id": 777, "token": "glcbt-64_bad-payload-token", "steps": "make"}"#.utf8))
            var good = JobPayloadBuilder(script: ["echo still-serving"])
            good.repoURL = ""
            let ok = c.enqueue(job: good)
            let agent = SpoolAgent(state: s)
            try agent.startAgent(["--config", try config(s, c.baseURL, token: c.runnerToken)])
            let badFinal = await finalStatus(c, bad, timeout: 30)
            let okFinal = await finalStatus(c, ok, timeout: 30)
            agent.stop()
            await c.shutdown()
            #expect(badFinal == "failed", "\(agent.log)")
            #expect(c.updates(jobID: bad).last?.failureReason == "runner_system_failure")
            #expect(!c.trace(jobID: bad).isEmpty)
            #expect(okFinal == "success")
            Leftovers.expectNone(s)
        }

        @Test func sigkilledAgentReportsTheJobFailedOnRestart() async throws {
            let s = TestState()
            let c = try await TestCoordinator.start()
            var job = JobPayloadBuilder(script: ["echo started", "sleep 60"])
            job.repoURL = ""
            let id = c.enqueue(job: job)
            let cfg = try config(s, c.baseURL, token: c.runnerToken)
            let agent = SpoolAgent(state: s)
            try agent.startAgent(["--config", cfg])
            var running = false
            for _ in 0..<300 where !running {
                running = String(decoding: c.trace(jobID: id), as: UTF8.self).contains("started")
                if !running { try await Task.sleep(nanoseconds: 100_000_000) }
            }
            #expect(running)
            agent.signal(SIGKILL)
            _ = agent.waitExit()
            #expect(SpoolAgent.wait(10) { Leftovers.sandboxProcesses().isEmpty })
            let again = SpoolAgent(state: s)
            try again.startAgent(["--config", cfg])
            let final = await finalStatus(c, id, timeout: 30)
            again.stop()
            await c.shutdown()
            #expect(final == "failed", "\(again.log)")
            #expect(c.updates(jobID: id).last?.failureReason == "runner_system_failure")
            #expect(String(decoding: c.trace(jobID: id), as: UTF8.self).contains("stopped"))
            #expect(again.inflight.isEmpty)
            Leftovers.expectNone(s)
        }

        @Test func unreachableCoordinatorIsRetriedAndLogged() throws {
            let s = TestState()
            let agent = SpoolAgent(state: s)
            // A port nothing listens on.
            try agent.startAgent(["--config", try config(s, "http://127.0.0.1:9", token: "glrt-x")])
            #expect(SpoolAgent.wait(20) { agent.log.contains("127.0.0.1:9") }, "\(agent.log)")
            #expect(agent.process?.isRunning == true)
            agent.signal(SIGQUIT)
            #expect(agent.waitExit(20) == 0)
        }

        @Test func registerVerifiesTheTokenAndWritesAPrivateConfig() async throws {
            let s = TestState()
            let c = try await TestCoordinator.start()
            let path = s.dir + "/etc/agent.yaml"
            let ok = try Run.capture(
                [Host.airlock, "register", "--url", c.baseURL, "--token", c.runnerToken, "--config", path], env: s.env)
            #expect(ok.status == 0, "\(ok.stderr)")
            var st = stat()
            #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains(c.runnerToken))
            let again = try Run.capture(
                [Host.airlock, "register", "--url", c.baseURL, "--token", c.runnerToken, "--config", path], env: s.env)
            #expect(again.status == 2 && again.stderr.contains("--force"))
            let bad = try Run.capture(
                [Host.airlock, "register", "--url", c.baseURL, "--token", "glrt-wrong", "--config", path + "2"],
                env: s.env)
            #expect(bad.status == 2 && bad.stderr.contains("403"), "\(bad.stderr)")
            let legacy = try Run.capture(
                [
                    Host.airlock, "register", "--url", c.baseURL, "--registration-token",
                    "GR1348941airlock-registration",
                    "--config", path + "3",
                ], env: s.env)
            #expect(legacy.status == 0, "\(legacy.stderr)")
            await c.shutdown()
            // A config with an unknown key: exit 2 naming it.
            try "name: a\ngitlab: {url: 'http://127.0.0.1:9', token: t, tokn: x}\n".write(
                toFile: path + "4", atomically: true, encoding: .utf8)
            let badConfig = try Run.capture([Host.airlock, "agent", "--config", path + "4"], env: s.env)
            #expect(badConfig.status == 2 && badConfig.stderr.contains("tokn"), "\(badConfig.stderr)")
        }
    }
}

import AirlockProvenance
import AirlockTestSupport
import Foundation
import Testing

extension AgentIntegration {
    @Suite("agent: spool source (root)", .serialized)
    struct AgentSpool {
        @Test func runsJobsConcurrentlyAndWritesSignedResults() throws {
            let state = TestState()
            let agent = SpoolAgent(state: state)
            try agent.start(["--concurrency", "2"])
            defer { agent.stop() }
            try agent.submit(
                "build",
                """
                name: build
                inputs: [msg.txt]
                steps:
                  - {name: make, run: 'tr a-z A-Z < msg.txt > out.txt'}
                outputs: [out.txt]
                """, files: ["msg.txt": "hello spool\n"])
            try agent.submit("fails", "name: fails\nsteps:\n  - {name: s, run: 'echo oops; exit 3'}\n")
            try agent.submit("broken", "name: broken\nstepz: []\n")

            let ok = try #require(agent.result("build"), "agent log:\n\(agent.log)")
            #expect(ok["state"] as? String == "success")
            #expect(
                try String(contentsOfFile: agent.spool + "/done/build/out.txt", encoding: .utf8) == "HELLO SPOOL\n")
            let provenance = try #require(ok["provenance"] as? String)
            // The signed provenance verifies with the agent's key.
            let pub = state.dir + "/keys/" + KeyFiles.publicKeyName
            let v = try Run.capture(
                [
                    Host.airlock, "verify", "--provenance", agent.spool + "/done/build/" + provenance, "--key", pub,
                    agent.spool + "/done/build/out.txt",
                ], env: state.env)
            #expect(v.status == 0, "\(v.stdout)\(v.stderr)")

            let bad = try #require(agent.result("fails"))
            #expect(bad["state"] as? String == "failed")
            #expect(bad["exit_code"] as? Int == 3)
            #expect(try String(contentsOfFile: agent.spool + "/done/fails/fails.log", encoding: .utf8).contains("oops"))

            let invalid = try #require(agent.result("broken"))
            #expect(invalid["state"] as? String == "invalid")
            #expect((invalid["message"] as? String ?? "").contains("stepz"))

            // The agent keeps serving after a bad job.
            try agent.submit("after", "name: after\nsteps: [{name: s, run: 'true'}]\n")
            #expect(agent.result("after")?["state"] as? String == "success")
            let timings = try #require(ok["timings"] as? [String: Any])
            #expect(timings["claim_to_sandbox_ms"] is Double)
            agent.signal(SIGQUIT)
            #expect(agent.waitExit() == 0)
            #expect(agent.inflight.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: agent.spool + "/claimed").isEmpty)
            Leftovers.expectNone(state)
        }

        @Test func twoAgentsShareOneSpoolAndRunEachJobOnce() throws {
            let state = TestState()
            let a = SpoolAgent(state: state)
            let b = SpoolAgent(state: state, spool: a.spool)
            try a.start(["--concurrency", "2"], name: "t1")
            try b.start(["--concurrency", "2"], name: "t2")
            defer {
                a.stop()
                b.stop()
            }
            for i in 0..<12 {
                try a.submit("j\(i)", "name: j\(i)\nsteps: [{name: s, run: 'echo $((\(i) * 2))'}]\n")
            }
            var agents: [String: Int] = [:]
            for i in 0..<12 {
                let r = try #require(a.result("j\(i)"), "a:\n\(a.log)\nb:\n\(b.log)")
                #expect(r["state"] as? String == "success", "\(r)")
                agents[r["agent"] as? String ?? "?", default: 0] += 1
            }
            let done = try FileManager.default.contentsOfDirectory(atPath: a.spool + "/done").filter {
                !$0.hasPrefix(".")
            }
            #expect(done.count == 12, "each job exactly once: \(done.sorted())")
            #expect(agents.keys.allSatisfy { ["t1", "t2"].contains($0) })
            a.stop()
            b.stop()
            Leftovers.expectNone(state)
        }

        @Test func sigquitDrainsAndSigtermAbortsWithCleanup() throws {
            let state = TestState()
            let agent = SpoolAgent(state: state)
            try agent.start()
            try agent.submit("slow", "name: slow\nsteps: [{name: s, run: 'sleep 1; echo finished'}]\n")
            #expect(SpoolAgent.wait { !agent.inflight.isEmpty })
            agent.signal(SIGQUIT)
            // Submitted after the drain began: must not be taken.
            try agent.submit("late", "name: late\nsteps: [{name: s, run: 'true'}]\n")
            #expect(agent.waitExit() == 0)
            #expect(agent.result("slow", timeout: 1)?["state"] as? String == "success")
            #expect(FileManager.default.fileExists(atPath: agent.spool + "/incoming/late.yaml"))

            // SIGTERM: the running job is canceled (its after-step still runs), then the agent exits.
            let second = SpoolAgent(state: state, spool: agent.spool)
            try second.start()
            _ = second.result("late")
            try second.submit(
                "long",
                """
                name: long
                steps:
                  - {name: work, run: 'sleep 60'}
                  - {name: cleanup, run: 'echo cleanup-ran', when: always}
                """)
            #expect(SpoolAgent.wait { !second.inflight.isEmpty })
            usleep(300_000)
            second.signal(SIGTERM)
            #expect(second.waitExit(20) == 0, "\(second.log)")
            let r = try #require(second.result("long", timeout: 1))
            #expect(r["state"] as? String == "canceled")
            let log = (try? String(contentsOfFile: agent.spool + "/done/long/long.log", encoding: .utf8)) ?? ""
            #expect(!log.contains("cleanup-ran"), "abort runs no further step")
            Leftovers.expectNone(state)
        }

        @Test func restartAfterSigkillReportsTheJobFailedAndLeavesNothing() throws {
            let state = TestState()
            let agent = SpoolAgent(state: state)
            // The job holds a secret lease when the agent dies; the restart must revoke it.
            let put = try Run.capture(
                [Host.airlock, "secrets", "put", "tok", "--from-file", "/etc/hostname"], env: state.env)
            #expect(put.status == 0, "\(put.stderr)")
            try agent.start(["--spool-secret", "local:tok"])  // spool jobs get only the secrets allowed
            try agent.submit(
                "victim",
                "name: victim\nsecrets: [{name: tok, source: 'local:tok'}]\nsteps: [{name: s, run: 'sleep 60'}]\n")
            #expect(SpoolAgent.wait { !agent.inflight.isEmpty && !Leftovers.sandboxProcesses().isEmpty })
            agent.signal(SIGKILL)
            _ = agent.waitExit()
            // The sandbox dies with its helper; the workspace and journal entry remain until restart.
            #expect(SpoolAgent.wait(10) { Leftovers.sandboxProcesses().isEmpty })
            #expect(!agent.inflight.isEmpty)

            let again = SpoolAgent(state: state, spool: agent.spool)
            try again.start()
            defer { again.stop() }
            let r = try #require(again.result("victim"), "\(again.log)")
            #expect(r["state"] as? String == "failed")
            #expect((r["message"] as? String ?? "").contains("runner_system_failure"))
            #expect(again.log.contains("revoked 1 lease(s) left by an earlier run"), "\(again.log)")
            #expect(SpoolAgent.wait(5) { again.inflight.isEmpty })
            #expect(try FileManager.default.contentsOfDirectory(atPath: agent.spool + "/claimed").isEmpty)
            again.stop()
            Leftovers.expectNone(state)
        }

        @Test func metricsAndHealth() throws {
            let state = TestState()
            let agent = SpoolAgent(state: state)
            let port = 20000 + Int(getpid() % 20000)
            try agent.start(["--metrics", "127.0.0.1:\(port)"])
            defer { agent.stop() }
            try agent.submit("m", "name: m\nsteps: [{name: s, run: 'true'}]\n")
            #expect(agent.result("m")?["state"] as? String == "success")
            var metrics = ""
            SpoolAgent.wait(10) {
                metrics = (try? Run.capture(["/usr/bin/curl", "-sf", "http://127.0.0.1:\(port)/metrics"]).stdout) ?? ""
                return metrics.contains("airlock_jobs_total{state=\"success\"} 1")
            }
            #expect(metrics.contains("airlock_jobs_total{state=\"success\"} 1"), "\(metrics)\n\(agent.log)")
            #expect(metrics.contains("airlock_sandbox_setup_seconds_count 1"))
            let health = try Run.capture([
                "/usr/bin/curl", "-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/healthz",
            ])
            #expect(health.stdout.hasSuffix(" 200"), "\(health.stdout)")
        }
    }
}

import AirlockTestSupport
import Foundation
import Testing

extension AgentIntegration {
    /// The spool's trust boundary: whoever writes `incoming/` chooses the job, not its sandbox.
    @Suite("agent: spool trust boundary (root)", .serialized)
    struct SpoolTrust {
        /// A state directory whose embedded store holds the secret `tok`.
        static func stateWithSecret() throws -> TestState {
            let state = TestState()
            let put = try Run.capture(
                [Host.airlock, "secrets", "put", "tok", "--from-file", "/etc/hostname"], env: state.env)
            #expect(put.status == 0, "\(put.stderr)")
            return state
        }

        @Test("H3: a spool job directory's own default.yaml does not apply; other profiles and secrets need the config")
        func spoolJobsCannotChooseTheirSandbox() throws {
            let state = try Self.stateWithSecret()
            let agent = SpoolAgent(state: state)
            try agent.start()
            defer { agent.stop() }
            let hostile = """
                name: default
                extends: network-host
                seccomp: {defaultAction: allow, rules: []}
                filesystem: {binds: [{source: /, target: /host, mode: rw}]}
                """
            try agent.submit(
                "own-profile",
                """
                name: own-profile
                steps: [{name: s, run: 'echo ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" ,); test -e /host/etc && echo ESCAPED; true'}]
                """, files: ["default.yaml": hostile])
            let own = try #require(agent.result("own-profile"), "agent log:\n\(agent.log)")
            #expect(own["state"] as? String == "success", "\(own)")
            let log =
                (try? String(contentsOfFile: agent.spool + "/done/own-profile/own-profile.log", encoding: .utf8)) ?? ""
            #expect(log.contains("ifaces=lo,") && !log.contains("ESCAPED"), "\(log)")

            try agent.submit("net", "name: net\nprofile: network-host\nsteps: [{name: s, run: 'true'}]\n")
            let net = try #require(agent.result("net"))
            #expect(net["state"] as? String == "invalid")
            #expect((net["message"] as? String ?? "").contains("spool_profiles"), "\(net)")

            try agent.submit(
                "sec", "name: sec\nsecrets: [{name: tok, source: 'local:tok'}]\nsteps: [{name: s, run: 'true'}]\n")
            let sec = try #require(agent.result("sec"))
            #expect(sec["state"] as? String == "invalid")
            #expect((sec["message"] as? String ?? "").contains("spool_secrets"), "\(sec)")

            // Bare job files take inputs from the spool root, but never from its queues or outside it.
            try agent.submit(
                "peek", "name: peek\ninputs: [done/own-profile]\nsteps: [{name: s, run: 'cat -A done/*/*.log'}]\n")
            #expect(agent.result("peek")?["state"] as? String == "invalid")
            try agent.submit(
                "key",
                "name: key\ninputs: [\"\(state.dir)/keys/signing.key\"]\nsteps: [{name: s, run: 'cat signing.key'}]\n")
            #expect(agent.result("key")?["state"] as? String == "invalid")
            let keyDump = (try? FileManager.default.contentsOfDirectory(atPath: agent.spool + "/done/key")) ?? []
            #expect(!keyDump.contains("signing.key"))
            agent.stop()
            Leftovers.expectNone(state)
        }

        @Test("control: what the agent's config allows, a spool job may use")
        func allowedProfileAndSecret() throws {
            let state = try Self.stateWithSecret()
            let agent = SpoolAgent(state: state)
            try agent.start(["--spool-profile", "default", "--spool-profile", "strict", "--spool-secret", "tok"])
            defer { agent.stop() }
            try agent.submit(
                "ok",
                "name: ok\nprofile: strict\nsecrets: [{name: tok, source: 'local:tok'}]\nsteps: [{name: s, run: 'test -s /run/secrets/tok'}]\n"
            )
            #expect(agent.result("ok")?["state"] as? String == "success", "agent log:\n\(agent.log)")
            agent.stop()
            Leftovers.expectNone(state)
        }

        @Test("L: an incoming symlink to a root-only file is refused and none of it is echoed")
        func incomingSymlink() throws {
            let state = TestState()
            let secret = state.dir + "/root-only.txt"
            FileManager.default.createFile(
                atPath: secret, contents: Data("root:$6$TOPSECRETHASH:19000:0:99999:7:::\nname: x\n".utf8),
                attributes: [.posixPermissions: 0o600])
            let agent = SpoolAgent(state: state)
            try agent.start()
            defer { agent.stop() }
            #expect(symlink(secret, agent.spool + "/incoming/shadow.yaml") == 0)
            let r = try #require(agent.result("shadow"), "agent log:\n\(agent.log)")
            #expect(r["state"] as? String == "invalid")
            let text = (try? String(contentsOfFile: agent.spool + "/done/shadow/result.json", encoding: .utf8)) ?? ""
            #expect(!text.contains("TOPSECRET") && !text.contains("root:"), "\(text)")
            #expect((r["message"] as? String ?? "").contains("symlink"), "\(r)")
            agent.stop()
            Leftovers.expectNone(state)
        }
    }
}

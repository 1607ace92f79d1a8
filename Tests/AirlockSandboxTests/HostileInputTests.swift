import AirlockTestSupport
import Foundation
import Testing

/// Hostile YAML given to the real `airlock` binary: 5,000 nested `[` (which overflowed the stack
/// in libyaml/Yams) and a "billion laughs" alias bomb (which took minutes of CPU). Each is refused
/// with exit status 2 and a message naming the file, the position and the limit; none crashes.
enum HostileYAML {
    static let nested = "name: deep\nsteps: " + String(repeating: "[", count: 5000) + "\n"

    /// Nine levels of nine aliases each: 9^9 strings once expanded, in under 500 bytes.
    static let aliasBomb: String = {
        var text = "name: bomb\nx0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for k in 1..<9 {
            text += "x\(k): &a\(k) [\(Array(repeating: "*a\(k - 1)", count: 9).joined(separator: ","))]\n"
        }
        return text + "steps: [{name: s, run: 'true'}]\n"
    }()

    static func write(_ text: String, _ name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }
}

/// The CLI verbs need only the built binary (they refuse before any sandbox starts).
@Suite(
    "hostile input: CLI",
    .enabled(if: FileManager.default.isExecutableFile(atPath: Host.airlock), "needs a built `airlock` (swift build)"))
struct HostileInputCLI {
    func expectRefused(
        _ r: RunResult, file: String, limit: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(r.status == 2, "exit status (139 or 11 would be a crash): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(file + ":"), "names the file: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(limit), "names the limit: \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func runRefusesNestedBracketsAndTheAliasBomb() throws {
        let state = TestState()
        let deep = try HostileYAML.write(HostileYAML.nested, "deep.yaml", in: state.dir)
        let bomb = try HostileYAML.write(HostileYAML.aliasBomb, "bomb.yaml", in: state.dir)
        expectRefused(
            try Run.capture([Host.airlock, "run", deep], env: state.env), file: deep,
            limit: "nesting deeper than 64 levels")
        expectRefused(
            try Run.capture([Host.airlock, "run", bomb], env: state.env), file: bomb,
            limit: "expands the document beyond 100000 nodes")
    }

    @Test func execRefusesAHostileProfile() throws {
        let state = TestState()
        let bomb = try HostileYAML.write(
            HostileYAML.aliasBomb.replacingOccurrences(of: "name: bomb", with: "name: bomb-profile"),
            "bomb-profile.yaml", in: state.dir)
        expectRefused(
            try Run.capture([Host.airlock, "exec", "--profile", bomb, "--", "/bin/true"], env: state.env),
            file: bomb, limit: "100000 nodes")
        let deep = try HostileYAML.write(
            "name: deep-profile\nseccomp: " + String(repeating: "{a: ", count: 5000), "deep-profile.yaml", in: state.dir
        )
        expectRefused(
            try Run.capture([Host.airlock, "exec", "--profile", deep, "--", "/bin/true"], env: state.env),
            file: deep, limit: "nesting deeper than 64 levels")
    }

    @Test func profileLintAndAgentConfigRefuseWithoutCrashing() throws {
        let state = TestState()
        let bomb = try HostileYAML.write(HostileYAML.aliasBomb, "lint-bomb.yaml", in: state.dir)
        let lint = try Run.capture([Host.airlock, "profile", "lint", bomb], env: state.env)
        #expect(lint.status != 0 && lint.status != 11 && lint.status != 139, "\(lint.status): \(lint.stderr)")
        let lintText = lint.stdout + lint.stderr
        #expect(lintText.contains(bomb + ":") && lintText.contains("100000 nodes"), "\(lintText)")
        let deep = try HostileYAML.write(HostileYAML.nested, "lint-deep.yaml", in: state.dir)
        let lintDeep = try Run.capture([Host.airlock, "profile", "lint", deep], env: state.env)
        #expect(lintDeep.status != 0 && lintDeep.status != 11 && lintDeep.status != 139, "\(lintDeep.stderr)")
        #expect((lintDeep.stdout + lintDeep.stderr).contains("nesting deeper than 64 levels"), "\(lintDeep.stderr)")

        let config = try HostileYAML.write(HostileYAML.nested, "agent.yaml", in: state.dir)
        expectRefused(
            try Run.capture([Host.airlock, "agent", "--config", config], env: state.env), file: config,
            limit: "nesting deeper than 64 levels")
    }
}

extension SandboxIntegration {
    /// A spool agent given hostile jobs while an ordinary one runs: the hostile ones end
    /// `invalid`, the ordinary one succeeds, and the agent keeps serving and stops on SIGTERM.
    @Suite("hostile input: spool agent (root)", .serialized)
    struct HostileInputSpool {
        /// The ordinary job's workspace once the job has started (it writes `ready` there).
        static func readyWorkspace(_ state: TestState) -> String? {
            for ws in state.leftoverWorkspaces
            where FileManager.default.fileExists(atPath: "\(state.dir)/workspaces/\(ws)/ready") {
                return "\(state.dir)/workspaces/\(ws)"
            }
            return nil
        }

        @Test func hostileJobsFailAsInvalidWhileAnOrdinaryJobRuns() throws {
            let state = TestState()
            let agent = SpoolAgent(state: state)
            try agent.start(["--concurrency", "2"])
            defer { agent.stop() }
            // Waits (up to a minute) for the test to say `go` after the hostile jobs are done.
            try agent.submit(
                "ordinary",
                """
                name: ordinary
                steps:
                  - name: wait
                    run: |
                      touch ready
                      i=0
                      while [ ! -e go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
                      [ -e go ] && echo released
                """)
            #expect(SpoolAgent.wait(60) { Self.readyWorkspace(state) != nil }, "the job started: \(agent.log)")
            let workspace = Self.readyWorkspace(state)

            try agent.submit("deep", HostileYAML.nested)
            try agent.submit("bomb", HostileYAML.aliasBomb)
            // A directory job whose own profile file is the bomb: spool jobs never bring profiles,
            // so it is refused by the spool policy before anything reads the file.
            try agent.submit(
                "profile", "name: profile\nprofile: ./bomb.yaml\nsteps: [{name: s, run: 'true'}]\n",
                files: ["bomb.yaml": HostileYAML.aliasBomb])
            let expected = [
                ("deep", "incoming/deep.yaml:", "nesting deeper than 64 levels"),
                ("bomb", "incoming/bomb.yaml:", "100000 nodes"),
                ("profile", "incoming/profile/job.yaml:", "spool_profiles"),
            ]
            for (id, file, limit) in expected {
                let r = try #require(agent.result(id), "agent log:\n\(agent.log)")
                #expect(r["state"] as? String == "invalid", "\(r)")
                let message = r["message"] as? String ?? ""
                #expect(message.contains(file) && message.contains(limit), "\(message)")
            }
            #expect(agent.process?.isRunning == true, "the agent survived: \(agent.log)")
            #expect(
                !FileManager.default.fileExists(atPath: agent.spool + "/done/ordinary/result.json"),
                "the ordinary job was still running")

            if let workspace { FileManager.default.createFile(atPath: workspace + "/go", contents: nil) }
            let ok = try #require(agent.result("ordinary"), "agent log:\n\(agent.log)")
            #expect(ok["state"] as? String == "success", "\(ok)")
            #expect(
                (try? String(contentsOfFile: agent.spool + "/done/ordinary/ordinary.log", encoding: .utf8))?
                    .contains("released") == true)

            agent.signal(SIGTERM)
            #expect(agent.waitExit(10) == 0, "\(agent.log)")
            Leftovers.expectNone(state)
        }
    }
}

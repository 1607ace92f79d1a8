import AirlockCore
import Foundation
import Testing

@testable import AirlockAgent
@testable import AirlockGitLab

@Suite("GitLab payload → Airlock job")
struct GitLabJobMapperTests {
    func payload(_ extra: [String: Any]) throws -> GitLabJobPayload {
        var o: [String: Any] = [
            "id": 7, "token": "glcbt-x",
            "steps": [
                ["name": "script", "script": ["echo 'a b'", "make"], "timeout": 3600, "when": "on_success"],
                ["name": "after_script", "script": ["echo done"], "timeout": 300, "when": "always"],
            ],
            "runner_info": ["timeout": 600],
            "variables": [
                ["key": "A", "value": "one", "public": true],
                ["key": "B", "value": "$A-${A}-$$-$MISSING", "public": true],
                ["key": "RAW", "value": "$A", "public": true, "raw": true],
                ["key": "TOKEN", "value": "s3cret-value", "public": false, "masked": true],
                ["key": "KUBECONFIG", "value": "apiVersion: v1", "public": false, "file": true],
                ["key": "bad name", "value": "x", "public": true],
            ],
            "artifacts": [["name": "bin", "paths": ["out/*"], "when": "on_success", "artifact_type": "archive"]],
        ]
        for (k, v) in extra { o[k] = v }
        return try JSONDecoder().decode(GitLabJobPayload.self, from: JSONSerialization.data(withJSONObject: o))
    }

    let mapper = GitLabJobMapper(images: ["debian:12": "strict"], defaultProfile: "default")

    @Test("artifact paths get the outputs' rules: no absolute path, no '..', no control characters")
    func refusesEscapingArtifactPaths() throws {
        for bad in ["/etc/shadow", "q/../d/x/evil", "../up", "a\nb"] {
            let p = try payload([
                "artifacts": [["name": "a", "paths": ["d", bad], "when": "on_success", "artifact_type": "archive"]]
            ])
            #expect(throws: GitLabJobMapper.Refusal.self, "\(bad)") {
                _ = try mapper.map(p, sourceDir: "/w/src", inputs: [])
            }
        }
        let ok = try payload([
            "artifacts": [["name": "a", "paths": ["build/**/*.xml", "q/.[.]x"], "artifact_type": "archive"]]
        ])
        #expect(try mapper.map(ok, sourceDir: "/w/src", inputs: []).job.outputs == ["build/**/*.xml", "q/.[.]x"])
    }

    @Test func mapsStepsVariablesTimeoutAndArtifacts() throws {
        let m = try mapper.map(try payload([:]), sourceDir: "/w/src", inputs: ["msg.txt"])
        let job = m.job
        #expect(job.steps.map(\.name) == ["script", "after_script"])
        #expect(job.steps[1].when == .always && job.steps[1].timeout == 300)
        #expect(job.steps[0].run.contains("printf '%s\\n' '$ echo '\\''a b'\\'''\necho 'a b'"))
        #expect(job.timeout == 600)
        #expect(job.outputs == ["out/*"])
        #expect(job.inputs == ["msg.txt", ".airlock-vars"])
        let env = Dictionary(job.env.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        #expect(env["B"] == "one-one-$-")
        #expect(env["RAW"] == "$A")
        #expect(env["KUBECONFIG"] == "/workspace/.airlock-vars/KUBECONFIG")
        #expect(env["CI_PROJECT_DIR"] == "/workspace")
        #expect(env["bad name"] == nil)
        #expect(m.files.map(\.name) == ["KUBECONFIG"])
        #expect(m.maskValues == ["s3cret-value"])
        #expect(job.maskedEnv == ["TOKEN"])
        #expect(m.notes.contains { $0.contains("bad name") })
    }

    @Test func imagesMapToProfilesOrAreRefused() throws {
        #expect(
            try mapper.map(try payload(["image": ["name": "debian:12"]]), sourceDir: "/s", inputs: []).job.profile
                == "strict")
        let e = try #require(throws: GitLabJobMapper.Refusal.self) {
            try mapper.map(try payload(["image": ["name": "ruby:3"]]), sourceDir: "/s", inputs: [])
        }
        #expect(e.reason == .runnerUnsupported && e.message.contains("gitlab.images"))
        let s = try #require(throws: GitLabJobMapper.Refusal.self) {
            try mapper.map(try payload(["services": [["name": "postgres:16"]]]), sourceDir: "/s", inputs: [])
        }
        #expect(s.message.contains("postgres:16"))
    }

    @Test func aPayloadWithoutAScriptIsRefused() throws {
        let p = try payload(["steps": [["name": "after_script", "script": ["true"], "when": "always"]]])
        #expect(throws: GitLabJobMapper.Refusal.self) { try mapper.map(p, sourceDir: "/s", inputs: []) }
    }

    @Test func credentialsAreRedactedFromTheRepositoryURL() {
        #expect(
            SourceFetcher.redact("https://gitlab-ci-token:glcbt-abc@gitlab.example.com/g/p.git")
                == "https://gitlab.example.com/g/p.git")
        #expect(SourceFetcher.redact("file:///tmp/repo") == "file:///tmp/repo")
    }
}

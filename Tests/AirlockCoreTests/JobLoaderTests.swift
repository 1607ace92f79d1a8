import Foundation
import Testing

@testable import AirlockCore

@Suite struct JobLoaderTests {
    static let full = """
        name: hello-1.0
        profile: strict
        inputs:
          - src/
          - ./etc/hostname
        env:
          CC: cc
          CFLAGS: -O2 -g
          JOBS: 4
          _private: ""
        steps:
          - name: build
            run: cc $CFLAGS -o hello src/hello.c
          - name: test
            run: |
              ./hello > out.txt
              grep -q hi out.txt
        outputs: [hello, "dist/*.tar.gz"]
        timeout: 1h30m
        resources: {memory: 1.5GiB, pids: 256, cpus: 1.5}
        sourceDateEpoch: 1700000000

        """

    @Test func parsesEveryField() throws {
        let job = try JobLoader.parse(yaml: Self.full, file: "job.yaml")
        #expect(job.name == "hello-1.0")
        #expect(job.profile == "strict")
        #expect(job.inputs == ["src/", "./etc/hostname"])
        #expect(job.env.map(\.key) == ["CC", "CFLAGS", "JOBS", "_private"])
        #expect(job.env.map(\.value) == ["cc", "-O2 -g", "4", ""])
        #expect(
            job.steps == [
                .init(name: "build", run: "cc $CFLAGS -o hello src/hello.c"),
                .init(name: "test", run: "./hello > out.txt\ngrep -q hi out.txt\n"),
            ])
        #expect(job.outputs == ["hello", "dist/*.tar.gz"])
        #expect(job.timeout == 5400)
        #expect(job.resources == .init(memory: 1_610_612_736, pids: 256, cpus: 1.5))
        #expect(job.sourceDateEpoch == 1_700_000_000)
        #expect(job.sourceFile == nil)
    }

    @Test func defaults() throws {
        let job = try JobLoader.parse(yaml: "name: a\nsteps: [{name: s, run: 'true'}]\n", file: "job.yaml")
        #expect(job.profile == "default")
        #expect(job.inputs.isEmpty && job.env.isEmpty && job.outputs.isEmpty)
        #expect(job.timeout == nil && job.resources == .init() && job.sourceDateEpoch == nil)
    }

    /// (yaml, expected message) — every message names file, line, column and field.
    static let invalid: [(String, String)] = [
        (
            "name: a\ninputs: [/etc/shadow]\nsteps: [{name: s, run: x}]\n",
            "job.yaml:2:10: field 'inputs[0]' must be relative to the job file's directory, not the absolute path '/etc/shadow'"
        ),
        (
            "name: a\ninputs:\n  - src\n  - ../../etc/passwd\nsteps: [{name: s, run: x}]\n",
            "job.yaml:4:5: field 'inputs[1]' must stay inside the job file's directory; '../../etc/passwd' contains '..'"
        ),
        (
            "name: a\nsteps:\n  - name: one\n    run: make\n  - name: two\n    run: [make]\n",
            "job.yaml:6:10: field 'steps[1].run' must be a string, not a list"
        ),
        (
            "name: a\nstpes: []\n",
            "job.yaml:2:1: unknown field 'stpes' (did you mean 'steps'?)"
        ),
        (
            "name: a\nsteps: [{name: s, run: x, nmae: y}]\n",
            "job.yaml:2:27: unknown field 'steps[0].nmae' (did you mean 'name'?)"
        ),
        ("steps: [{name: s, run: x}]\n", "job.yaml:1:1: missing required field 'name'"),
        ("name: a\n", "job.yaml:1:1: missing required field 'steps'"),
        ("name: a\nsteps: []\n", "job.yaml:2:8: field 'steps' must list at least one step"),
        (
            "name: a b\nsteps: [{name: s, run: x}]\n",
            "job.yaml:1:7: field 'name' may contain only letters, digits, '.', '_' and '-', not 'a b'"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}, {name: s, run: y}]\n",
            "job.yaml:2:35: step name 's' is used twice (first on line 2)"
        ),
        ("name: a\nsteps: [{name: s}]\n", "job.yaml:2:9: missing required field 'steps[0].run'"),
        ("name: a\nsteps: [{name: '', run: x}]\n", "job.yaml:2:16: field 'steps[0].name' must not be empty"),
        (
            "name: a\nsteps: [{name: s, run: x}]\nenv: {1BAD: x}\n",
            "job.yaml:3:7: '1BAD' in field 'env' is not a valid variable name"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\nenv: {A: [1]}\n",
            "job.yaml:3:10: field 'env.A' must be a single value, not a list"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\noutputs: [/etc/passwd]\n",
            "job.yaml:3:11: field 'outputs[0]' must be relative to /workspace, not the absolute path '/etc/passwd'"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\noutputs: [a/../../x]\n",
            "job.yaml:3:11: field 'outputs[0]' must stay inside /workspace; 'a/../../x' contains '..'"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\ntimeout: soon\n",
            "job.yaml:3:10: field 'timeout' is not a valid duration: 'soon' is not a duration"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\nresources: {memory: lots}\n",
            "job.yaml:3:21: field 'resources.memory' is not a valid size: 'lots' is not a size"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\nresources: {pids: 0}\n",
            "job.yaml:3:19: field 'resources.pids' must be positive, not 0"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\nresources: {cpu: 1}\n",
            "job.yaml:3:13: unknown field 'resources.cpu' (did you mean 'cpus'?)"
        ),
        (
            "name: a\nsteps: [{name: s, run: x}]\nsourceDateEpoch: yesterday\n",
            "job.yaml:3:18: field 'sourceDateEpoch' must be an integer, not 'yesterday'"
        ),
        ("- a\n", "job.yaml:1:1: the document must be a mapping, not a list"),
    ]

    @Test(arguments: invalid)
    func invalidJobsNameFileLineAndField(_ yaml: String, _ expected: String) throws {
        let e = try #require(throws: AirlockError.self) { try JobLoader.parse(yaml: yaml, file: "job.yaml") }
        #expect(e.message == expected)
        #expect(e.code == .invalidFile)
        #expect(e.hint != nil || expected.contains("must"))
    }

    @Test func loadChecksInputsAndResolvesThemNextToTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("airlock-job-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir + "/src", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/job.yaml"
        try "name: a\ninputs: [src/, ./src]\nsteps: [{name: s, run: x}]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let job = try JobLoader.load(path: file)
        #expect(job.sourceFile == file)
        #expect(job.baseDirectory == dir)
        #expect(job.resolvedInputPaths == [dir + "/src", dir + "/src"])

        try "name: a\nsteps: [{name: s, run: x}]\ninputs:\n  - src/\n  - missing/\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let e = try #require(throws: AirlockError.self) { try JobLoader.load(path: file) }
        #expect(e.code == .missingFile)
        #expect(e.message == "\(file):5: input 'missing/' does not exist (looked at \(dir)/missing)")
        #expect(e.hint?.contains(dir) == true)
    }

    @Test func loadReportsAMissingJobFile() throws {
        let e = try #require(throws: AirlockError.self) { try JobLoader.load(path: "/nonexistent/job.yaml") }
        #expect(e.code == .missingFile)
        #expect(e.message == "/nonexistent/job.yaml: file does not exist")
    }
}

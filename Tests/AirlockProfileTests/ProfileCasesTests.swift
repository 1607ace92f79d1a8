import AirlockCore
import Foundation
import Testing

@testable import AirlockProfile

@Suite struct ProfileCasesTests {
    let env = ["AIRLOCK_PROBE": "/bin/sh"]

    func parse(_ text: String, env: [String: String]? = nil) throws -> ProfileCaseFile {
        try ProfileCaseFile.parse(
            text: text, file: "c.yaml", syscalls: FixedSyscallTable(), environment: env ?? self.env)
    }

    @Test("the shipped case files parse")
    func shippedParse() throws {
        for name in ["default", "strict", "network-host"] {
            let path = repoRoot + "/Profiles/cases/\(name).yaml"
            let f = try ProfileCaseFile.parse(
                text: try String(contentsOfFile: path, encoding: .utf8), file: path, syscalls: FixedSyscallTable(),
                environment: env)
            #expect(f.profile == name)
            #expect(f.cases.count >= 4)
            #expect(f.cases.contains { if case .deniedErrno = $0.expectation { return true } else { return false } })
        }
    }

    @Test("a case: argv or shell string, allowed with output, denied by errno or signal")
    func forms() throws {
        let f = try parse(
            """
            binds: [{src: "${AIRLOCK_PROBE}", dst: /opt/p}]
            cases:
              - {name: a, run: echo hi, expect: allowed, output: hi}
              - {name: b, run: [/bin/true], expect: denied, errno: eperm, syscall: ptrace}
              - {name: c, run: [/bin/true], expect: denied, signal: SYS}

            """)
        #expect(f.binds.first?.source == "/bin/sh")
        #expect(f.cases[0].command == ["/bin/sh", "-c", "echo hi"])
        #expect(f.cases[0].expectation == .allowed(output: "hi"))
        #expect(f.cases[1].expectation == .deniedErrno(1))
        #expect(f.cases[1].syscall == "ptrace")
        #expect(f.cases[2].expectation == .deniedSignal(31))
    }

    @Test(
        "bad case files are errors with file, line and a fix",
        arguments: [
            ("cases:\n  - {name: a, run: x, expect: allowed, outptu: y}\n", "c.yaml:2", "did you mean 'output'"),
            ("cases:\n  - {name: a, run: x, expect: denied}\n", "c.yaml:2", "errno"),
            ("cases:\n  - {name: a, run: x, expect: denied, errno: EPREM}\n", "c.yaml:2", "did you mean 'EPERM'"),
            ("cases:\n  - {name: a, run: x, expect: allowed, syscall: ptrac}\n", "c.yaml:2", "did you mean 'ptrace'"),
            ("cases:\n  - {name: a, run: x, expect: maybe}\n", "c.yaml:2", "allowed"),
            ("binds: [{src: /nonexistent/probe}]\ncases: []\n", "c.yaml:1", "does not exist"),
            ("binds: [{src: \"${NOPE}\"}]\ncases: []\n", "c.yaml:1", "NOPE"),
        ])
    func badInput(_ text: String, _ location: String, _ fragment: String) throws {
        #expect {
            try parse(text)
        } throws: { e in
            let s = "\(e)"
            return s.contains(location) && s.contains(fragment)
        }
    }

    @Test("JUnit output counts failures and inconclusive cases and escapes text")
    func junit() throws {
        let xml = ProfileCaseReport.junit(
            [
                .init(name: "ok", outcome: .pass),
                .init(name: "bad <one>", outcome: .fail, detail: "expected \"x\""),
                .init(name: "maybe", outcome: .inconclusive, detail: "control failed"),
            ], suite: "s")
        #expect(xml.contains("tests=\"3\" failures=\"1\" errors=\"1\""))
        #expect(xml.contains("name=\"bad &lt;one&gt;\""))
        #expect(xml.contains("<failure message=\"expected &quot;x&quot;\""))
        #expect(xml.contains("<error message=\"inconclusive: control failed\""))
        let text = ProfileCaseReport.text([.init(name: "ok", outcome: .pass)], profile: "p")
        #expect(text.contains("PASS") && text.contains("1 passed, 0 failed, 0 inconclusive"))
    }
}

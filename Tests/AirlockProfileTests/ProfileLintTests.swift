import AirlockCore
import Foundation
import Testing

@testable import AirlockProfile

/// A profile that allows every risky thing `lint` knows about (except capabilities, which the
/// loader refuses outright: see `capabilitiesAreAnError`).
private let riskyYAML = """
    name: risky
    seccomp:
      defaultAction: allow
      rules:
        - {names: [kexec_load], action: errno, why: "one denial so the list is not empty"}
    filesystem:
      binds:
        - {src: /usr}
        - {src: /srv/cache, dst: /cache, mode: rw}
    network: host
    limits: {memory: unlimited, pids: unlimited, timeout: unlimited}

    """

@Suite struct ProfileLintTests {
    func lint(_ files: [String: String], _ name: String) throws -> [LintFinding] {
        let t = try TempProfiles(files)
        defer { t.cleanup() }
        return try ProfileLinter().lint(try t.loader().load(name))
    }

    @Test("every risky allowance is flagged, with its reason")
    func flagsEachRiskyAllowance() throws {
        let findings = try lint(["risky.yaml": riskyYAML], "risky")
        let checks = Set(findings.map(\.check))
        for expected in [
            "nested-userns", "mount", "ptrace", "bpf", "keyctl", "io_uring", "perf_event_open", "userfaultfd",
            "personality", "AF_VSOCK", "host-network", "writable-bind", "missing-limits",
        ] {
            #expect(checks.contains(expected), "\(expected) not flagged: \(findings)")
        }
        #expect(findings.allSatisfy { $0.severity == .warning })
        let ptrace = findings.first { $0.check == "ptrace" }!
        #expect(ptrace.message.contains("ptrace") && ptrace.message.contains(":"))
        #expect(findings.first { $0.check == "writable-bind" }!.message.contains("/srv/cache"))
        #expect(findings.first { $0.check == "missing-limits" }!.message.contains("memory, pids, timeout"))
    }

    @Test("the shipped default profile has no risky allowance but its host-independent ones")
    func defaultIsClean() throws {
        let loaded = try ProfileLoader(searchPaths: [repoRoot + "/Profiles"], syscalls: FixedSyscallTable()).load(
            "default")
        let findings = try ProfileLinter().lint(loaded)
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test("strict's conditional clone allowance is not mistaken for nested namespaces")
    func strictIsClean() throws {
        let loaded = try ProfileLoader(searchPaths: [repoRoot + "/Profiles"], syscalls: FixedSyscallTable()).load(
            "strict")
        #expect(try ProfileLinter().lint(loaded).isEmpty)
    }

    @Test("network-host is flagged for the host network only")
    func networkHost() throws {
        let loaded = try ProfileLoader(searchPaths: [repoRoot + "/Profiles"], syscalls: FixedSyscallTable()).load(
            "network-host")
        #expect(try ProfileLinter().lint(loaded).map(\.check) == ["host-network"])
    }

    @Test("a deny-list that allows clone with CLONE_NEWUSER is flagged, one that denies it is not")
    func cloneFlags() throws {
        let allows = try lint(
            ["a.yaml": "seccomp: {defaultAction: allow, rules: [{names: [unshare, setns, clone3], action: errno}]}\n"],
            "a")
        #expect(allows.first { $0.check == "nested-userns" }?.message.contains("clone(0x10000011)") == true)
        let denies = try lint(
            [
                "b.yaml": """
                seccomp:
                  defaultAction: allow
                  rules:
                    - {names: [unshare, setns, clone3], action: errno}
                    - {names: [clone], action: errno, args: [{index: 0, op: masked_eq, value: 0x10000000, valueTwo: 0x10000000}]}

                """
            ], "b")
        #expect(!denies.contains { $0.check == "nested-userns" })
    }

    @Test("kept capabilities are an error that says why")
    func capabilitiesAreAnError() throws {
        let t = try TempProfiles(["caps.yaml": "seccomp: {defaultAction: allow}\ncapabilities: [CAP_SYS_ADMIN]\n"])
        defer { t.cleanup() }
        #expect {
            try t.loader().load("caps")
        } throws: { e in
            let text = "\(e)"
            return text.contains("capabilities") && text.contains("CAP_SYS_ADMIN") && text.contains("caps.yaml:2")
        }
    }

    @Test("an unknown syscall name is an error with file, line and a suggestion")
    func unknownSyscall() throws {
        let t = try TempProfiles([
            "typo.yaml": "seccomp:\n  defaultAction: allow\n  rules:\n    - {names: [ptrac], action: errno}\n"
        ])
        defer { t.cleanup() }
        #expect {
            try t.loader().load("typo")
        } throws: { e in "\(e)".contains("typo.yaml:4") && "\(e)".contains("did you mean 'ptrace'") }
    }
}

@Suite struct ProfileLintOCITests {
    @Test("an OCI profile's skipped, unknown allow names are reported by lint, not silently dropped")
    func ociUnknownNamesAreReported() throws {
        let json = """
            {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [
              {"names": ["read", "write", "exit_group", "not_a_real_syscall"], "action": "SCMP_ACT_ALLOW"}
            ]}

            """
        let t = try TempProfiles(["default.yaml": baseYAML, "oci.json": json])
        defer { t.cleanup() }
        let findings = try ProfileLinter().lint(try t.loader().load(t.dir + "/oci.json"))
        let imported = findings.filter { $0.check == "load" }
        #expect(imported.contains { $0.message.contains("not_a_real_syscall") }, "\(findings)")
    }
}

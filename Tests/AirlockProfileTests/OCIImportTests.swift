import AirlockCore
import Foundation
import Testing

@testable import AirlockProfile

/// A small profile in the OCI / Docker seccomp format (tab-indented, as moby's is).
let ociFixture = """
    {
    \t"defaultAction": "SCMP_ACT_ERRNO",
    \t"defaultErrnoRet": 1,
    \t"archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
    \t"syscalls": [
    \t\t{"names": ["read", "write", "_llseek", "fstat64"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
    \t\t{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "args": null, "comment": "", "includes": {"minKernel": "4.8"}, "excludes": {}},
    \t\t{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
    \t\t{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
    \t\t{"names": ["s390_runtime_instr"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["s390", "s390x"]}},
    \t\t{"names": ["bpf", "mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
    \t\t{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], "comment": "no namespaces", "excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}},
    \t\t{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 1, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}], "includes": {"arches": ["s390", "s390x"]}},
    \t\t{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    \t\t{"names": ["kcmp"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
    \t\t{"name": "getpid", "action": "SCMP_ACT_LOG"},
    \t\t{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errno": "EINVAL", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}]},
    \t\t{"names": ["exit_group"], "action": "SCMP_ACT_KILL_THREAD"}
    \t]
    }

    """

@Suite struct OCIImportTests {
    @Test func importsFixtureWithIncludesExcludesArchesAndArgs() throws {
        let t = try TempProfiles(["oci.json": ociFixture])
        defer { t.cleanup() }
        let loaded = try t.loader(embedded: EmbeddedProfiles.all).load("oci")
        let p = loaded.profile
        #expect(p.name == "oci")
        #expect(p.lineage == ["default", "oci"])
        #expect(loaded.sources.map(\.file) == ["<embedded>/default.yaml", "\(t.dir)/oci.json"])
        #expect(p.seccomp.defaultAction == .errno(1))
        #expect(
            p.seccomp.rules.map(\.names) == [
                ["read", "write"], ["ptrace"], ["personality"], ["arch_prctl"], ["clone"], ["clone3"], ["getpid"],
                ["socket"], ["exit_group"],
            ])
        #expect(
            p.seccomp.rules.map(\.action) == [
                .allow, .allow, .allow, .allow, .allow, .errno(38), .log, .errno(22), .killProcess,
            ])
        #expect(p.seccomp.rules[2].args == [SeccompArg(index: 0, op: .eq, value: 8)])
        #expect(p.seccomp.rules[4].args == [SeccompArg(index: 0, op: .maskedEq, value: 0x7E02_0000, valueTwo: 0)])
        #expect(p.seccomp.rules[4].why == "no namespaces")
        #expect(p.seccomp.rules[7].args.map(\.index) == [0, 2])
        #expect(p.seccomp.rules[0].location?.line == 6)
        // Filesystem, network and limits come from `default`.
        let def = try t.loader(embedded: EmbeddedProfiles.all).load("default").profile
        #expect(p.filesystem == def.filesystem && p.network == .none && p.limits == def.limits)
        #expect(
            loaded.warnings.contains(
                "\(t.dir)/oci.json: libseccomp on this host does not know: _llseek, fstat64; they stay denied"))
        #expect(loaded.warnings.contains { $0.contains("SCMP_ACT_KILL_THREAD is applied as kill") })
        _ = try p.seccomp.normalizedRules()
    }

    @Test func unknownNameInADenyRuleUnderAnAllowDefaultIsAnError() throws {
        let json = """
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
              {"names": ["ptrace", "ptrace_v2"], "action": "SCMP_ACT_ERRNO"}
            ]}
            """
        let t = try TempProfiles(["deny.json": json])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader(embedded: EmbeddedProfiles.all).load("deny") }
        #expect(
            e.message.hasPrefix(
                "\(t.dir)/deny.json:2:24: unknown syscall 'ptrace_v2' in a rule that denies it (errno(EPERM)) while the default action allows: skipping it would let it through"
            ))
        #expect(e.hint?.contains("update libseccomp") == true)
    }

    @Test func unknownNamesThatCannotWeakenTheFilterAreWarnings() throws {
        let json = """
            {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
              {"names": ["read", "oldcall"], "action": "SCMP_ACT_ALLOW"},
              {"names": ["bpf"], "action": "SCMP_ACT_ERRNO"}
            ]}
            """
        let t = try TempProfiles(["allow.json": json])
        defer { t.cleanup() }
        let loaded = try t.loader(embedded: EmbeddedProfiles.all).load("allow")
        #expect(
            loaded.warnings == [
                "\(t.dir)/allow.json: libseccomp on this host does not know: oldcall; their rules were skipped; the default action (allow) applies"
            ])
        #expect(loaded.profile.seccomp.rules.map(\.names) == [["read"], ["bpf"]])
    }

    @Test func unsupportedActionsAndOpsAreErrors() throws {
        let t = try TempProfiles([
            "trace.json": #"{"defaultAction": "SCMP_ACT_TRACE"}"#,
            "op.json":
                #"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]}"#,
            "typo.json": #"{"defaultAction": "SCMP_ACT_ALLOW", "sycalls": []}"#,
        ])
        defer { t.cleanup() }
        let loader = t.loader(embedded: EmbeddedProfiles.all)
        let trace = try #require(throws: AirlockError.self) { try loader.load("trace") }
        #expect(trace.message.contains("trace.json:1:19: field 'defaultAction' is SCMP_ACT_TRACE"))
        let op = try #require(throws: AirlockError.self) { try loader.load("op") }
        #expect(op.message.contains("op.json:1:137: field 'syscalls[0].args[0].op' must be one of"))
        #expect(op.message.hasSuffix("(did you mean 'SCMP_CMP_EQ'?)"))
        let typo = try #require(throws: AirlockError.self) { try loader.load("typo") }
        #expect(typo.message.contains("unknown field 'sycalls' (did you mean 'syscalls'?)"))
    }

    @Test func anOCIFileNamedDefaultTakesTheBuiltInDefaultAsItsBase() throws {
        let t = try TempProfiles(["default.json": ociFixture])
        defer { t.cleanup() }
        let loaded = try t.loader(embedded: EmbeddedProfiles.all).load("default")
        #expect(loaded.sources.map(\.file) == ["<embedded>/default.yaml", "\(t.dir)/default.json"])
        #expect(loaded.profile.seccomp.defaultAction == .errno(1))
    }

    /// Real profiles: extracted by `scripts/fetch-reference-profiles.sh` (which `make test` runs)
    /// into `.build/reference-profiles/`, or installed by their Debian packages.
    static func reference(_ name: String, installed: String) -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let fetched = url.path + "/.build/reference-profiles/" + name
        return FileManager.default.fileExists(atPath: fetched) ? fetched : installed
    }
    /// Moby's default profile, from the Debian package golang-github-docker-docker-dev.
    static let dockerDefault = reference(
        "docker-default.json", installed: "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json"
    )
    /// Podman/Buildah's profile, from the Debian package golang-github-containers-common.
    static let containersDefault = reference("containers-seccomp.json", installed: "/usr/share/containers/seccomp.json")

    @Test(
        "Docker's default seccomp profile imports as-is",
        .enabled(
            if: FileManager.default.fileExists(atPath: dockerDefault),
            "needs Docker's default.json: run scripts/fetch-reference-profiles.sh"))
    func importsDockerDefault() throws {
        let (rules, warnings) = try checkRealProfile(Self.dockerDefault)
        let allowed = Set(rules.filter { $0.action == .allow && $0.args.isEmpty }.flatMap(\.names))
        // Capability-gated allowances are dropped: the sandbox holds no capabilities.
        #expect(allowed.isDisjoint(with: ["bpf", "mount", "unshare", "setns", "reboot", "init_module"]))
        // clone is allowed only without namespace flags; clone3 fails with ENOSYS.
        #expect(
            rules.filter { $0.names == ["clone"] }.map(\.args) == [
                [SeccompArg(index: 0, op: .maskedEq, value: 0x7E02_0000)]
            ])
        #expect(rules.first { $0.names == ["clone3"] }?.action == .errno(38))
        // 32-bit-only names (e.g. _llseek) are unknown on x86_64: skipped, with a warning.
        #expect(warnings.contains { $0.contains("_llseek") && $0.contains("stay denied") })
    }

    @Test(
        "containers' default seccomp profile imports as-is",
        .enabled(
            if: FileManager.default.fileExists(atPath: containersDefault),
            "needs containers' seccomp.json: run scripts/fetch-reference-profiles.sh"))
    func importsContainersDefault() throws {
        let (rules, _) = try checkRealProfile(Self.containersDefault)
        // Entries that need a capability are dropped, their "excludes caps" twins kept.
        #expect(rules.first { $0.names == ["open_by_handle_at"] }?.action == .errno(1))
    }

    /// Loads a real OCI profile and checks what holds for any of them; returns its rules.
    func checkRealProfile(_ path: String) throws -> (rules: [SeccompRule], warnings: [String]) {
        let loaded = try ProfileLoader(searchPaths: [], syscalls: FixedSyscallTable()).load(path)
        let p = loaded.profile
        #expect(p.lineage.first == "default")
        #expect(p.network == .none)
        guard case .errno = p.seccomp.defaultAction else {
            Issue.record("expected an errno default, got \(p.seccomp.defaultAction)")
            return ([], [])
        }
        let rules = try p.seccomp.normalizedRules()
        let allowed = Set(rules.filter { $0.action == .allow && $0.args.isEmpty }.flatMap(\.names))
        #expect(allowed.isSuperset(of: ["read", "write", "execve", "openat", "futex"]))
        return (rules, loaded.warnings)
    }
}

import AirlockCore
import Testing

@testable import AirlockProfile

@Suite struct ProfileValidationTests {
    func load(_ yaml: String) throws -> LoadedProfile {
        let t = try TempProfiles(["p.yaml": yaml])
        defer { t.cleanup() }
        return try t.loader().load(t.dir + "/p.yaml")
    }

    func error(_ yaml: String) throws -> AirlockError {
        let t = try TempProfiles(["p.yaml": yaml])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load(t.dir + "/p.yaml") }
        // Messages name the file as given.
        return AirlockError(e.code, e.message.replacingOccurrences(of: t.dir + "/", with: ""), hint: e.hint)
    }

    @Test func unknownSyscallIsLocatedAndSuggested() throws {
        let e = try error(
            """
            seccomp:
              defaultAction: allow
              rules:
                - {names: [bpf], action: errno}
                - {names: [kcmp], action: errno}
                - {names: [acct], action: errno}
                - names: [keyctl, ptrac]
                  action: errno

            """)
        #expect(e.message == "p.yaml:7:23: unknown syscall 'ptrac' in seccomp.rules[3].names (did you mean 'ptrace'?)")
        #expect(e.hint == "rename it to 'ptrace'")
    }

    @Test func argumentsAreParsedInHexAndDecimal() throws {
        let p = try load(
            """
            seccomp:
              defaultAction: allow
              rules:
                - names: [clone]
                  action: errno
                  errno: 13
                  args: [{index: 0, op: masked_eq, value: 0x10000000, valueTwo: 268435456}]
                - names: [socket]
                  action: trap
                  args: [{index: 0, op: eq, value: 40}, {index: 1, op: ge, value: 0xA}]

            """
        ).profile
        #expect(p.seccomp.rules[0].action == .errno(13))
        #expect(
            p.seccomp.rules[0].args == [SeccompArg(index: 0, op: .maskedEq, value: 0x1000_0000, valueTwo: 0x1000_0000)])
        #expect(p.seccomp.rules[1].args.map(\.op) == [.eq, .ge])
        #expect(p.seccomp.rules[1].location?.line == 8)
    }

    static let invalid: [(String, String)] = [
        (
            "seccomp: {defaultAction: deny}\n",
            "p.yaml:1:26: field 'seccomp.defaultAction' must be one of allow, errno, kill, trap, log, not 'deny'"
        ),
        (
            "seccomp: {defaultAction: errno, defaultErrno: EPREM}\n",
            "p.yaml:1:47: field 'seccomp.defaultErrno' must be an errno name (EPERM, ENOSYS, EACCES, …) or a number from 1 to 4095, not 'EPREM' (did you mean 'EPERM'?)"
        ),
        (
            "seccomp: {defaultAction: allow, defaultErrno: 1}\n",
            "p.yaml:1:47: field 'seccomp.defaultErrno' only applies when seccomp.defaultAction is errno"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: allow, errno: 1}]}\n",
            "p.yaml:1:78: field 'seccomp.rules[0].errno' only applies to 'action: errno', not 'allow'"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: errno, args: [{index: 6, op: eq, value: 1}]}]}\n",
            "p.yaml:1:86: field 'seccomp.rules[0].args[0].index' must be between 0 and 5 (syscalls take at most six arguments), not 6"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: errno, args: [{index: 0, op: equals, value: 1}]}]}\n",
            "p.yaml:1:93: field 'seccomp.rules[0].args[0].op' must be one of eq, ne, lt, le, gt, ge, masked_eq, not 'equals'"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: errno, args: [{index: 0, op: eq, value: -1}]}]}\n",
            "p.yaml:1:104: field 'seccomp.rules[0].args[0].value' must be a non-negative integer (decimal or 0x hex), not '-1'"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: errno, args: [{index: 0, op: eq, value: 1}, {index: 0, op: ne, value: 2}]}]}\n",
            "p.yaml:1:116: argument 0 is compared twice in one rule"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [bpf], action: errno, args: [{index: 0, op: masked_eq, value: 1, valueTwo: 2}]}]}\n",
            "p.yaml:1:78: masked_eq compares (arg & value) with valueTwo, but valueTwo has bits outside the mask, so it never matches"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{names: [], action: errno}]}\n",
            "p.yaml:1:49: field 'seccomp.rules[0].names' must name at least one syscall"
        ),
        (
            "seccomp: {defaultAction: allow, rules: [{name: [bpf], action: errno}]}\n",
            "p.yaml:1:42: unknown field 'seccomp.rules[0].name' (did you mean 'names'?)"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: usr}]}\n",
            "p.yaml:2:28: field 'filesystem.binds[0].src' must be an absolute host path, not 'usr'"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /usr, dst: usr}]}\n",
            "p.yaml:2:39: bind destination 'usr' in field 'filesystem.binds[0].dst' must be an absolute path"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /usr, dst: /usr/../etc}]}\n",
            "p.yaml:2:39: bind destination '/usr/../etc' in field 'filesystem.binds[0].dst' is not normalised (no '..', '.', '//' or trailing '/')"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /proc}]}\n",
            "p.yaml:2:28: bind destination '/proc' in field 'filesystem.binds[0].src' is inside /proc, which Airlock manages itself"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /srv, dst: /workspace/data}]}\n",
            "p.yaml:2:39: bind destination '/workspace/data' in field 'filesystem.binds[0].dst' is inside /workspace, which Airlock manages itself"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /usr, mode: rx}]}\n",
            "p.yaml:2:40: field 'filesystem.binds[0].mode' must be one of ro, rw, not 'rx' (did you mean 'ro'?)"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {symlinks: [{path: /tmp/x, target: y}]}\n",
            "p.yaml:2:32: symlink path '/tmp/x' in field 'filesystem.symlinks[0].path' is inside /tmp, which Airlock manages itself"
        ),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {tmpSize: 0}\n",
            "p.yaml:2:23: field 'filesystem.tmpSize' must be larger than 0"
        ),
        (
            "seccomp: {defaultAction: allow}\nnetwork: bridge\n",
            "p.yaml:2:10: field 'network' must be one of none, host, not 'bridge'"
        ),
        (
            "seccomp: {defaultAction: allow}\ncapabilities: [CAP_NET_RAW]\n",
            "p.yaml:2:15: field 'capabilities' must be empty; 'CAP_NET_RAW' cannot be kept"
        ),
        (
            "seccomp: {defaultAction: allow}\nlimits: {memory: 2GB}\n",
            "p.yaml:2:18: field 'limits.memory' is not a valid size: '2GB' uses a decimal-looking unit 'GB'"
        ),
        (
            "seccomp: {defaultAction: allow}\nlimits: {cgroupFallback: ignore}\n",
            "p.yaml:2:26: field 'limits.cgroupFallback' must be one of refuse, rlimits, not 'ignore'"
        ),
        (
            "seccomp: {defaultAction: allow}\nlimits: {timeout: forever}\n",
            "p.yaml:2:19: field 'limits.timeout' is not a valid duration: 'forever' is not a duration"
        ),
        ("seccomp: {defaultAction: allow}\nlimit: {}\n", "p.yaml:2:1: unknown field 'limit' (did you mean 'limits'?)"),
        (
            "seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /usr}], symlinks: [{path: /usr, target: x}]}\n",
            "p.yaml: '/usr' is both a bind (from /usr) and a symlink (to x)"
        ),
    ]

    @Test(arguments: invalid)
    func invalidProfilesNameFileLineAndField(_ yaml: String, _ expected: String) throws {
        let e = try error(yaml)
        #expect(e.message == expected)
        #expect(e.code == .invalidFile)
    }

    @Test func capabilitiesErrorExplainsWhy() throws {
        let e = try error("seccomp: {defaultAction: allow}\ncapabilities: [CAP_SYS_ADMIN]\n")
        #expect(e.hint?.contains("drops every capability") == true)
    }

    @Test func bindsIntoManagedPathsGetAHint() throws {
        let e = try error("seccomp: {defaultAction: allow}\nfilesystem: {binds: [{src: /dev}]}\n")
        #expect(e.hint?.contains("minimal /dev") == true)
    }
}

@Suite struct NormalizedRulesTests {
    func rule(_ name: String, _ action: SeccompAction, _ args: [SeccompArg] = [], line: Int = 1) -> SeccompRule {
        SeccompRule(
            names: [name], action: action, args: args, location: AirlockCore.SourceLocation(file: "p.yaml", line: line))
    }
    let flag = SeccompArg(index: 0, op: .maskedEq, value: 0x1000_0000, valueTwo: 0x1000_0000)

    @Test func splitsNamesAndDropsDefaultActionRules() throws {
        let spec = SeccompSpec(
            defaultAction: .allow,
            rules: [SeccompRule(names: ["a", "b"], action: .errno(1)), rule("c", .allow), rule("a", .errno(38))])
        #expect(
            try spec.normalizedRules().map { "\($0.names[0])=\($0.action.text)" } == [
                "a=errno(ENOSYS)", "b=errno(EPERM)",
            ])
    }

    @Test func laterSameArgumentsReplaceEarlier() throws {
        let spec = SeccompSpec(
            defaultAction: .allow, rules: [rule("clone", .errno(1), [flag]), rule("clone", .killProcess, [flag])])
        #expect(try spec.normalizedRules().map(\.action) == [.killProcess])
    }

    @Test func unconditionalReplacesEarlierConditionals() throws {
        let spec = SeccompSpec(defaultAction: .errno(1), rules: [rule("ioctl", .allow, [flag]), rule("ioctl", .allow)])
        #expect(try spec.normalizedRules().map(\.args) == [[]])
        // An unconditional rule with the default action resets the call; later conditions apply.
        let reset = SeccompSpec(
            defaultAction: .allow,
            rules: [rule("clone", .errno(1)), rule("clone", .allow), rule("clone", .errno(1), [flag])])
        #expect(try reset.normalizedRules().map(\.args) == [[flag]])
    }

    @Test func exceptionAfterUnconditionalRuleIsAnError() throws {
        let spec = SeccompSpec(
            defaultAction: .errno(1),
            rules: [rule("clone", .allow, line: 3), rule("clone", .errno(1), [flag], line: 9)])
        let e = try #require(throws: AirlockError.self) { try spec.normalizedRules() }
        #expect(
            e.message.hasPrefix(
                "p.yaml:9: rule for 'clone' with arguments (errno(EPERM)) comes after an unconditional rule for it (allow) (at p.yaml:3)"
            ))
        // Same action: redundant, dropped.
        let redundant = SeccompSpec(
            defaultAction: .errno(1), rules: [rule("clone", .allow), rule("clone", .allow, [flag])])
        #expect(try redundant.normalizedRules().count == 1)
    }

    @Test func loaderRejectsAnInexpressibleProfile() throws {
        let t = try TempProfiles([
            "p.yaml": """
            seccomp:
              defaultAction: errno
              rules:
                - {names: [clone], action: allow}
                - {names: [clone], action: kill, args: [{index: 0, op: masked_eq, value: 1, valueTwo: 1}]}

            """
        ])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load("p") }
        #expect(e.message.hasPrefix("\(t.dir)/p.yaml:5:7: rule for 'clone'"))
    }
}

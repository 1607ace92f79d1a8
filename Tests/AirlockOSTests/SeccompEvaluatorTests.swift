import Glibc
import Testing

@testable import AirlockOS

@Suite("SeccompEvaluator")
struct SeccompEvaluatorTests {
    static let policy = SeccompPolicy(
        defaultAction: .allow,
        rules: [
            .init(syscall: "ptrace", action: .errno(EPERM)),
            .init(syscall: "clone3", action: .errno(ENOSYS)),
            .init(syscall: "kexec_load", action: .killProcess),
            .init(syscall: "acct", action: .trap),
            .init(
                syscall: "clone", action: .errno(EPERM),
                args: [.init(index: 0, op: .maskedEq, value: 0x1000_0000, valueTwo: 0x1000_0000)]),
            .init(
                syscall: "socket", action: .errno(EACCES),
                args: [.init(index: 0, op: .eq, value: 40), .init(index: 1, op: .ge, value: 0x1_0000_0001)]),
        ])

    func decide(_ name: String, _ args: [UInt64] = [], arch: UInt32 = SeccompEvaluator.nativeArch) throws
        -> SeccompEvaluator.Decision
    {
        let nr = LibseccompSyscalls().number(of: name)!
        return try SeccompEvaluator(program: try SeccompCompiler.compile(Self.policy)).decide(
            .init(number: nr, arch: arch, args: args))
    }

    @Test("decisions of a compiled deny-list, by call and by argument")
    func denyList() throws {
        #expect(try decide("getpid") == .allow)
        #expect(try decide("ptrace") == .errno(EPERM))
        #expect(try decide("clone3") == .errno(ENOSYS))
        #expect(try decide("kexec_load") == .killProcess)
        #expect(try decide("acct") == .trap)
        #expect(try decide("clone", [0x1000_0011]) == .errno(EPERM))
        #expect(try decide("clone", [0x0120_0011]) == .allow)
        // 64-bit comparisons: both halves are checked.
        #expect(try decide("socket", [40, 0x1_0000_0001]) == .errno(EACCES))
        #expect(try decide("socket", [40, 1]) == .allow)
        #expect(try decide("socket", [0x1_0000_0028, 0x1_0000_0001]) == .allow)
    }

    @Test("another architecture is killed (the filter allows only the native ABI)")
    func otherArch() throws {
        // AUDIT_ARCH_I386: libseccomp's bad-arch action (kill thread unless configured otherwise).
        let d = try decide("getpid", arch: 0x4000_0003)
        #expect(d == .killThread || d == .killProcess)
    }

    @Test("an allow-list: unlisted calls get the default errno")
    func allowList() throws {
        let p = SeccompPolicy(
            defaultAction: .errno(EPERM),
            rules: [.init(syscall: "read", action: .allow), .init(syscall: "write", action: .allow)])
        let ev = SeccompEvaluator(program: try SeccompCompiler.compile(p))
        let t = LibseccompSyscalls()
        #expect(try ev.decide(.init(number: t.number(of: "read")!)) == .allow)
        #expect(try ev.decide(.init(number: t.number(of: "socket")!)) == .errno(EPERM))
    }

    @Test("a program that runs off its end is reported, not trusted")
    func invalid() throws {
        let ev = SeccompEvaluator(program: SeccompProgram(bytes: [0x20, 0, 0, 0, 0, 0, 0, 0]))
        #expect(throws: SeccompEvaluator.InvalidProgram.self) { try ev.run(.init(number: 0)) }
    }

    @Test("the helper's observation format parses")
    func observations() throws {
        let o = SyscallObservations.parse(
            "airlock-record 1\narch 3221225534\nlistener 1\ncall 0 12\ncall 59 1\nargs 56 1 18874385 0 0 0 0 0\noverflow 16\nend\n"
        )
        #expect(o.counts == [0: 12, 59: 1])
        #expect(o.argumentTuples[56] == [[18_874_385, 0, 0, 0, 0, 0]])
        #expect(o.argumentMasks[56] == 1)
        #expect(o.overflowed == [16])
        #expect(o.listenerReceived && o.complete)
        #expect(SyscallObservations.name(of: 0) == "read")
    }
}

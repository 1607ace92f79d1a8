import CAirlockShims
import CSeccomp
import Glibc

/// A compiled seccomp program: classic BPF instructions (`struct sock_filter`, 8 bytes each),
/// ready to be handed to the helper.
public struct SeccompProgram: Hashable, Sendable {
    public var bytes: [UInt8]
    /// A program from its bytes (one loaded from the on-disk cache, say).
    public init(bytes: [UInt8]) { self.bytes = bytes }
    /// Number of BPF instructions.
    public var instructionCount: Int { bytes.count / 8 }
}

/// Compiles a `SeccompPolicy` with libseccomp, in the agent where allocation is safe. Only the
/// native architecture is allowed: a call made through another ABI (int 0x80, x32) kills the
/// process, so a deny-list cannot be bypassed by switching ABI.
public enum SeccompCompiler {
    /// Bump when a change here (attributes, rule handling) changes the bytes compiled for the
    /// same policy: it is part of the on-disk program cache's key.
    public static let revision = 1

    public static func compile(_ policy: SeccompPolicy) throws -> SeccompProgram {
        guard let ctx = seccomp_init(raw(policy.defaultAction)) else {
            throw OSError("seccomp_init", "filter", errno: ENOMEM)
        }
        defer { seccomp_release(ctx) }
        // No-new-privs is set by the helper itself; libseccomp must not try to set it here.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)
        // Level 2 sorts syscalls into a binary tree: O(log n) comparisons per call instead of a
        // linear scan of every rule (the kernel's action cache then skips BPF entirely for calls
        // whose outcome does not depend on arguments).
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        // libseccomp silently keeps the first of two rules for the same call and arguments;
        // a conflict must be an error, never a dropped (maybe stricter) rule.
        var seen: [String: SeccompPolicy.Action] = [:]
        for rule in policy.rules {
            if case .errno(let e) = rule.action, !(0...4095).contains(e) {
                throw OSError(
                    "seccomp_rule_add", describe(rule), errno: EINVAL, hint: "errno \(e) is out of range (0-4095)")
            }
            let key = describe(rule)
            if let other = seen[key], other != rule.action {
                throw OSError(
                    "seccomp_rule_add", key, errno: EEXIST,
                    hint:
                        "two rules for the same call and arguments have different actions (\(other) and \(rule.action))"
                )
            }
            seen[key] = rule.action
            // A rule that repeats the default action is a no-op (and libseccomp rejects it).
            if rule.action == policy.defaultAction { continue }
            let nr = seccomp_syscall_resolve_name(rule.syscall)
            if nr == __NR_SCMP_ERROR {
                throw OSError(
                    "seccomp_syscall_resolve_name", rule.syscall, errno: EINVAL,
                    hint: "libseccomp on this host does not know this syscall")
            }
            var cmps = rule.args.map(argCmp)
            let rc = cmps.withUnsafeMutableBufferPointer { buf in
                seccomp_rule_add_array(
                    ctx, raw(rule.action), nr, UInt32(buf.count), buf.baseAddress)
            }
            if rc < 0 {
                throw OSError("seccomp_rule_add", describe(rule), errno: -rc)
            }
        }
        let mem = try OwnedFD.memfd("airlock-bpf", contents: [])
        let rc = seccomp_export_bpf(ctx, mem.raw)
        if rc < 0 { throw OSError("seccomp_export_bpf", "memfd", errno: -rc) }
        _ = lseek(mem.raw, 0, SEEK_SET)
        return SeccompProgram(bytes: try mem.readAll())
    }

    static func raw(_ a: SeccompPolicy.Action) -> UInt32 {
        switch a {
        case .allow: return SCMP_ACT_ALLOW
        case .errno(let e): return 0x0005_0000 | (UInt32(truncatingIfNeeded: e) & 0xffff)  // SCMP_ACT_ERRNO(e)
        case .killProcess: return SCMP_ACT_KILL_PROCESS
        case .trap: return SCMP_ACT_TRAP
        case .log: return SCMP_ACT_LOG
        }
    }

    static func argCmp(_ a: SeccompPolicy.ArgCompare) -> scmp_arg_cmp {
        let op: scmp_compare
        switch a.op {
        case .eq: op = SCMP_CMP_EQ
        case .ne: op = SCMP_CMP_NE
        case .lt: op = SCMP_CMP_LT
        case .le: op = SCMP_CMP_LE
        case .gt: op = SCMP_CMP_GT
        case .ge: op = SCMP_CMP_GE
        case .maskedEq: op = SCMP_CMP_MASKED_EQ
        }
        return scmp_arg_cmp(arg: a.index, op: op, datum_a: a.value, datum_b: a.valueTwo)
    }

    static func describe(_ r: SeccompPolicy.Rule) -> String {
        r.args.isEmpty
            ? r.syscall
            : r.syscall + "(" + r.args.map { "arg\($0.index) \($0.op) \($0.value)" }.joined(separator: ", ") + ")"
    }
}

/// libseccomp's view of this host's syscalls (native architecture).
public struct LibseccompSyscalls: Sendable {
    public init() {}

    /// The native number for `name`, or nil when libseccomp does not know the name at all.
    /// Names that exist only on other architectures resolve to negative pseudo-numbers.
    public func number(of name: String) -> Int32? {
        let nr = seccomp_syscall_resolve_name(name)
        return nr == __NR_SCMP_ERROR ? nil : nr
    }

    /// Every native syscall name libseccomp knows, computed once.
    public var allNames: [String] { Self.names }

    static let names: [String] = {
        var out: [String] = []
        for nr in Int32(0)..<Int32(1024) {
            guard let p = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), nr) else { continue }
            out.append(String(cString: p))
            free(p)
        }
        return out
    }()

    /// The libseccomp library version, e.g. "2.5.4".
    public static var libraryVersion: String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}

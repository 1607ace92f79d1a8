import AirlockCore

/// One finding of `airlock profile lint`.
public struct LintFinding: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable { case error, warning }
    public var severity: Severity
    /// A short, stable identifier of the check (`ptrace`, `host-network`, `missing-limits`…).
    public var check: String
    /// Where it comes from: the rule's file and line, or the profile file.
    public var location: String
    /// What is allowed, and why that is risky.
    public var message: String

    public init(severity: Severity, check: String, location: String, message: String) {
        self.severity = severity
        self.check = check
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): [\(check)] \(message)" }
}

/// Flags risky allowances in a loaded profile, each with the reason it is risky.
///
/// Whether a call is allowed is decided from the flattened rules (after `extends`) the way
/// libseccomp applies them, for concrete sample arguments (e.g. `clone(CLONE_NEWUSER)`), so a
/// conditional rule that narrows a call is honoured.
public struct ProfileLinter: Sendable {
    /// One risky allowance: sample calls that must not be allowed.
    struct Check {
        var id: String
        var samples: [(name: String, args: [UInt64])]
        var reason: String
    }

    static let checks: [Check] = [
        Check(
            id: "nested-userns",
            samples: [
                ("unshare", [0x1000_0000]), ("clone", [0x1000_0000 | 17]), ("setns", [0, 0x1000_0000]), ("clone3", []),
            ],
            reason:
                "a nested user namespace gives the job a full set of capabilities over new namespaces, exposing kernel code (mount, netfilter, …) a capability-less process cannot reach; clone3's flags cannot be inspected by seccomp"
        ),
        Check(
            id: "mount",
            samples: [
                "mount", "umount2", "pivot_root", "move_mount", "open_tree", "fsopen", "fsmount", "mount_setattr",
            ]
            .map { ($0, []) },
            reason: "mounts can hide, replace or escape the sandbox's read-only binds"),
        Check(
            id: "ptrace", samples: ["ptrace", "process_vm_readv", "process_vm_writev"].map { ($0, []) },
            reason: "reading or steering another process of the job (or the reaper) crosses step boundaries"),
        Check(
            id: "bpf", samples: [("bpf", [])],
            reason: "eBPF verifier and JIT bugs are a recurring route to kernel code execution"),
        Check(
            id: "keyctl", samples: ["keyctl", "add_key", "request_key"].map { ($0, []) },
            reason: "keyrings are not namespaced: a job can read or plant keys shared with the host user"),
        Check(
            id: "io_uring", samples: ["io_uring_setup", "io_uring_enter", "io_uring_register"].map { ($0, []) },
            reason: "io_uring performs I/O outside the syscall path seccomp filters, and has had many exploits"),
        Check(
            id: "perf_event_open", samples: [("perf_event_open", [])],
            reason: "perf exposes kernel internals usable for side channels and has had many privilege escalations"),
        Check(
            id: "userfaultfd", samples: [("userfaultfd", [])],
            reason: "userfaultfd pauses the kernel mid-copy, the standard trick for winning kernel races"),
        Check(
            id: "personality", samples: [("personality", [0x040_0000]), ("personality", [0x004_0000])],
            reason: "READ_IMPLIES_EXEC / ADDR_NO_RANDOMIZE switch off W^X and ASLR for the job's children"),
        Check(
            id: "AF_VSOCK", samples: [("socket", [40, 1, 0])],
            reason: "AF_VSOCK talks to the hypervisor, outside any network namespace"),
    ]

    public init() {}

    /// Every finding for `loaded`, errors first.
    public func lint(_ loaded: LoadedProfile) throws -> [LintFinding] {
        let p = loaded.profile
        let file = loaded.sources.last?.file ?? p.name
        var out: [LintFinding] = loaded.warnings.map {
            LintFinding(severity: .warning, check: "load", location: file, message: $0)
        }
        let rules = try p.seccomp.normalizedRules()
        for check in Self.checks {
            let allowed = check.samples.filter {
                Self.decide($0.name, args: $0.args, rules: rules, default: p.seccomp.defaultAction).permitsCall
            }
            guard !allowed.isEmpty else { continue }
            let names = allowed.map { s in
                s.args.isEmpty
                    ? s.name : "\(s.name)(\(s.args.map { "0x" + String($0, radix: 16) }.joined(separator: ", ")))"
            }
            let location =
                rules.first { r in r.action.permitsCall && allowed.contains { r.names.contains($0.name) } }?.location?
                .description ?? file
            out.append(
                LintFinding(
                    severity: .warning, check: check.id, location: location,
                    message: "allows \(names.joined(separator: ", ")): \(check.reason)"))
        }
        if !p.capabilities.isEmpty {
            out.append(
                LintFinding(
                    severity: .warning, check: "capabilities", location: file,
                    message:
                        "keeps capabilities \(p.capabilities.joined(separator: ", ")): inside the user namespace they reopen what the filter closes"
                ))
        }
        if p.network == .host {
            out.append(
                LintFinding(
                    severity: .warning, check: "host-network", location: file,
                    message:
                        "network: host shares the host's network namespace: the job reaches every service on the host's 127.0.0.1 and the network"
                ))
        }
        for b in p.filesystem.binds where !b.readOnly {
            out.append(
                LintFinding(
                    severity: .warning, check: "writable-bind", location: file,
                    message:
                        "bind \(b.source) → \(b.destination) is writable: the job can change host files there, and they outlive the sandbox"
                ))
        }
        var missing: [String] = []
        if p.limits.memory == nil { missing.append("memory") }
        if p.limits.pids == nil { missing.append("pids") }
        if p.limits.timeout == nil { missing.append("timeout") }
        if !missing.isEmpty {
            out.append(
                LintFinding(
                    severity: .warning, check: "missing-limits", location: file,
                    message:
                        "no \(missing.joined(separator: ", ")) limit: a runaway or hostile job can exhaust the host (memory, fork bomb) or run forever"
                ))
        }
        if p.limits.cgroupFallback == .rlimits {
            out.append(
                LintFinding(
                    severity: .warning, check: "missing-limits", location: file,
                    message: "limits.cgroupFallback: rlimits runs without cgroup limits when cgroups are unavailable"))
        }
        return out
    }

    /// What the rules decide for one call with concrete arguments (libseccomp's semantics: an
    /// unconditional rule is the only rule for its call after normalisation; of several matching
    /// conditional rules the most restrictive action wins).
    public static func decide(_ name: String, args: [UInt64], rules: [SeccompRule], default d: SeccompAction)
        -> SeccompAction
    {
        let mine = rules.filter { $0.names.contains(name) }
        let matching = mine.filter { r in
            r.args.allSatisfy { a in
                let v = a.index < args.count ? args[a.index] : 0
                switch a.op {
                case .eq: return v == a.value
                case .ne: return v != a.value
                case .lt: return v < a.value
                case .le: return v <= a.value
                case .gt: return v > a.value
                case .ge: return v >= a.value
                case .maskedEq: return v & a.value == a.valueTwo
                }
            }
        }
        func rank(_ a: SeccompAction) -> Int {
            switch a {
            case .killProcess: return 5
            case .trap: return 4
            case .errno: return 3
            case .log: return 1
            case .allow: return 0
            }
        }
        return matching.map(\.action).max { rank($0) < rank($1) } ?? d
    }
}

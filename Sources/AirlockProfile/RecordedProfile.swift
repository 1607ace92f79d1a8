import AirlockCore
import Foundation

/// The result of `airlock profile record`: the calls a command made, as an allow-list profile
/// that extends a base profile.
///
/// Calls the base profile restricts by argument (`clone` flags, `socket` families, `ioctl`
/// requests, `personality` flags) are allowed only with the argument values that were observed;
/// every other observed call is allowed outright; everything else fails with EPERM. The base's
/// filesystem, network and limits apply unchanged.
public struct RecordedProfile: Hashable, Sendable {
    /// The profile this one extends (name or path, as written in `extends`).
    public var base: String
    /// The recorded commands, one per recording (shown as comments).
    public var commands: [String]
    /// Calls allowed whatever their arguments.
    public var calls: Set<String>
    /// Calls allowed only with these argument comparisons (each entry one rule).
    public var argumentRules: [String: Set<[SeccompArg]>]
    /// Why the recording may be incomplete (the command failed, too many argument values…).
    public var partialReasons: [String]

    public init(
        base: String, commands: [String] = [], calls: Set<String> = [],
        argumentRules: [String: Set<[SeccompArg]>] = [:],
        partialReasons: [String] = []
    ) {
        self.base = base
        self.commands = commands
        self.calls = calls
        self.argumentRules = argumentRules
        self.partialReasons = partialReasons
    }

    /// Whether the recording is known to be incomplete.
    public var isPartial: Bool { !partialReasons.isEmpty }

    /// Every call the profile allows, in some form.
    public var allNames: Set<String> { calls.union(argumentRules.keys) }

    /// Combine with another recording of the same base (`--merge`).
    public mutating func merge(_ other: RecordedProfile) throws {
        guard other.base == base else {
            throw AirlockError(
                .usage, "cannot merge recordings of different base profiles ('\(base)' and '\(other.base)')",
                hint: "record every command with the same --base")
        }
        commands += other.commands.filter { !commands.contains($0) }
        calls.formUnion(other.calls)
        for (name, rules) in other.argumentRules { argumentRules[name, default: []].formUnion(rules) }
        partialReasons += other.partialReasons.filter { !partialReasons.contains($0) }
        // A call allowed outright in one recording needs no argument rules from another.
        for name in calls { argumentRules[name] = nil }
    }

    /// The profile as YAML, named `name`.
    public func yaml(name: String, recordedAt: Date = Date()) -> String {
        var out: [String] = []
        let stamp = ISO8601DateFormatter().string(from: recordedAt)
        out.append("# Recorded by `airlock profile record` (Airlock \(AirlockVersion.current)), \(stamp).")
        for c in commands { out.append("# command: \(c.replacingOccurrences(of: "\n", with: " "))") }
        for r in partialReasons { out.append("# PARTIAL: \(r.replacingOccurrences(of: "\n", with: " "))") }
        out.append("# Every call the command made is allowed below; any other call fails with EPERM. The base")
        out.append("# profile's rules with other errnos, and its filesystem, network and limits, still apply.")
        out.append("# Re-record (or --merge another recording) when the command changes.")
        out.append("name: \(name)")
        let what = commands.isEmpty ? "no command" : commands.joined(separator: "; ")
        let desc = (isPartial ? "PARTIAL recording" : "Recorded allow-list") + " for: " + what
        out.append("description: \(Self.quote(desc))")
        out.append("extends: \(Self.quote(base))")
        out.append("seccomp:")
        out.append("  defaultAction: errno")
        out.append("  defaultErrno: EPERM")
        out.append("  rules:")
        let plain = calls.sorted()
        if !plain.isEmpty {
            out.append("    - names: [")
            var line = "        "
            for (i, n) in plain.enumerated() {
                let item = n + (i == plain.count - 1 ? "" : ", ")
                if line.count + item.count > 100 {
                    out.append(String(line.dropLast(line.hasSuffix(" ") ? 1 : 0)))
                    line = "        "
                }
                line += item
            }
            out.append(line)
            out.append("      ]")
            out.append("      action: allow")
            out.append("      why: \"observed while recording\"")
        }
        for name in argumentRules.keys.sorted() {
            let rules = argumentRules[name]!.sorted { Self.key($0) < Self.key($1) }
            for args in rules {
                let text = args.map { a in
                    a.op == .maskedEq
                        ? "{index: \(a.index), op: masked_eq, value: 0x\(String(a.value, radix: 16)), valueTwo: 0x\(String(a.valueTwo, radix: 16))}"
                        : "{index: \(a.index), op: eq, value: 0x\(String(a.value, radix: 16))}"
                }
                out.append("    - names: [\(name)]")
                out.append("      action: allow")
                out.append("      args: [\(text.joined(separator: ", "))]")
                out.append(
                    "      why: \"observed with these arguments (the base profile restricts \(name) by argument)\"")
            }
        }
        if plain.isEmpty && argumentRules.isEmpty { out[out.count - 1] = "  rules: []" }
        return out.joined(separator: "\n") + "\n"
    }

    private static func key(_ args: [SeccompArg]) -> String {
        args.map { "\($0.index):\(String($0.valueTwo | $0.value, radix: 16).leftPadded(16))" }.joined(separator: ",")
    }

    /// A YAML double-quoted scalar.
    static func quote(_ s: String) -> String { YAMLQuoting.doubleQuoted(s) }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}

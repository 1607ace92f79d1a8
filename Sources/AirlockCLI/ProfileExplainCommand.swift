import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock profile explain`: the effective rules, the compiled size, and the filter's decision.
struct ProfileExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show a profile's effective seccomp rules and what its compiled filter decides.",
        discussion: """
            Prints the lineage, the flattened rules after `extends` (in the form libseccomp \
            loads them), and the size of the compiled BPF program. With --syscall, runs the \
            compiled program on that call (with --args as its arguments, 0 when not given) and \
            prints the decision — evaluated on the BPF that is installed, not re-derived from \
            the YAML.
            """)

    @Argument(help: "Profile name or file.")
    var profile: String

    @Option(help: "A syscall name to evaluate.")
    var syscall: String?

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Its arguments (up to six; decimal or 0x hex).", valueName: "ARG"))
    var args: [String] = []

    func run() throws { throw ExitCode(execute()) }

    func execute() -> Int32 {
        do {
            let loaded = try ProfileLoader(searchPaths: ProfileSearch.paths, syscalls: HostSyscalls()).load(
                profile)
            for w in loaded.warnings { warn(w) }
            let p = loaded.profile
            let program = try SeccompProgramCache().filter(for: p.seccomp, profileName: p.name)
            var out = "profile: \(p.name)"
            if p.lineage.count > 1 { out += " (extends: \(p.lineage.joined(separator: " → ")))" }
            out += "\ndefault action: \(p.seccomp.defaultAction.text)\n"
            out += "BPF program: \(program.instructionCount) instructions\n"
            if syscall == nil {
                out += "rules (effective, after extends):\n" + Self.rulesText(try p.seccomp.normalizedRules())
            }
            if let name = syscall {
                out += try decision(name: name, profile: p, program: program)
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            return 0
        } catch {
            return report(error)
        }
    }

    func decision(name: String, profile p: Profile, program: CompiledSeccompFilter) throws -> String {
        let table = HostSyscalls()
        guard let nr = table.number(of: name), nr >= 0 else {
            throw AirlockError(
                .usage,
                "unknown syscall '\(name)'\(Suggest.didYouMean(name, in: table.allNames))",
                hint: "names are libseccomp's (scmp_sys_resolver NAME)")
        }
        guard args.count <= 6 else { throw AirlockError(.usage, "--args takes at most six values, not \(args.count)") }
        let values = try args.map { a -> UInt64 in
            let t = a.lowercased()
            if t.hasPrefix("0x"), let v = UInt64(t.dropFirst(2), radix: 16) { return v }
            if let v = UInt64(t) { return v }
            if let v = Int64(t) { return UInt64(bitPattern: v) }
            throw AirlockError(.usage, "--args '\(a)' is not a number", hint: "write decimal or 0x hex values")
        }
        let decision = try program.decide(number: nr, args: values)
        var text = "\(name)(\(values.map { "0x" + String($0, radix: 16) }.joined(separator: ", "))) [nr \(nr)] → "
        if let e = decision.errno {
            text += "errno \(e) (\(ErrnoName.name(e) ?? "?"))"
        } else {
            text += decision.text
        }
        text += "\n  (the compiled BPF program's answer)\n"
        let related = try p.seccomp.normalizedRules().filter { $0.names.contains(name) }
        text +=
            related.isEmpty
            ? "  no rule names \(name): the default action applies\n"
            : "  rules for \(name):\n"
                + Self.rulesText(related).split(separator: "\n").map { "  " + $0 }.joined(
                    separator: "\n") + "\n"
        return text
    }

    /// Rules grouped by action, arguments and reason.
    static func rulesText(_ rules: [SeccompRule]) -> String {
        var groups: [(key: String, names: [String], why: String?)] = []
        for r in rules {
            let cond =
                r.args.isEmpty
                ? ""
                : " when "
                    + r.args.map { a in
                        a.op == .maskedEq
                            ? "(arg\(a.index) & 0x\(String(a.value, radix: 16))) == 0x\(String(a.valueTwo, radix: 16))"
                            : "arg\(a.index) \(a.op.rawValue) 0x\(String(a.value, radix: 16))"
                    }.joined(separator: " and ")
            let key = r.action.text + cond
            if let i = groups.firstIndex(where: { $0.key == key && $0.why == r.why }) {
                groups[i].names += r.names
            } else {
                groups.append((key, r.names, r.why))
            }
        }
        var out = ""
        for g in groups {
            out += "  \(g.key): \(g.names.joined(separator: ", "))\n"
            if let why = g.why { out += "      why: \(why)\n" }
        }
        return out
    }
}

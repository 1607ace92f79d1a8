import AirlockCore

/// Imports an OCI / Docker seccomp profile (the JSON format of moby's
/// `profiles/seccomp/default.json` and containers' `seccomp.json`) as the seccomp part of an
/// Airlock profile.
///
/// Rules for entries:
/// - Airlock keeps no capabilities, so an entry whose `includes.caps` is non-empty never
///   applies (dropped) and an entry whose `excludes.caps` is non-empty always does (kept).
/// - Only entries for x86_64 (`amd64`, `x86_64`, `SCMP_ARCH_X86_64`) or with no arches apply.
/// - `minKernel` is ignored: Airlock assumes a modern kernel.
/// - Syscall names this host's libseccomp does not know are skipped with a warning when that
///   cannot weaken the filter (an allowing rule, or any rule under a denying default); a denying
///   rule under an allowing default with such a name is an error.
struct OCISeccompImporter {
    static let topFields = [
        "defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap", "syscalls",
        "flags", "listenerPath", "listenerMetadata",
    ]
    static let entryFields = [
        "names", "name", "action", "errnoRet", "errno", "args", "comment", "includes", "excludes",
    ]
    static let filterFields = ["caps", "arches", "minKernel"]
    static let argFields = ["index", "value", "valueTwo", "op"]
    static let hostArches: Set<String> = ["amd64", "x86_64", "SCMP_ARCH_X86_64"]
    static let ops: [String: SeccompArg.Op] = [
        "SCMP_CMP_EQ": .eq, "SCMP_CMP_NE": .ne, "SCMP_CMP_LT": .lt, "SCMP_CMP_LE": .le,
        "SCMP_CMP_GT": .gt, "SCMP_CMP_GE": .ge, "SCMP_CMP_MASKED_EQ": .maskedEq,
    ]
    static let actions = [
        "SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP", "SCMP_ACT_LOG",
    ]

    let syscalls: any SyscallTable

    /// Whether a parsed document is in the OCI format: a top-level `syscalls` key, or a
    /// `defaultAction` that starts with `SCMP_ACT_`.
    static func looksLikeOCI(_ root: YAMLNode) -> Bool {
        guard let m = try? root.mapping() else { return false }
        if m.contains("syscalls") { return true }
        return m["defaultAction"]?.scalarText?.hasPrefix("SCMP_ACT_") ?? false
    }

    func parse(root: YAMLNode, into fragment: inout ProfileFragment) throws {
        let m = try root.mapping(allowedKeys: Self.topFields)
        let defaultErrno = try m["defaultErrnoRet"].map(errnoValue) ?? 1
        let defaultAction = try action(
            m.required("defaultAction", hint: "add \"defaultAction\": \"SCMP_ACT_ERRNO\""), errno: defaultErrno,
            fragment: &fragment)
        if let flags = m["flags"], !(try flags.sequence().isEmpty) {
            fragment.warnings.append(
                "\(flags.location): seccomp 'flags' are ignored; Airlock sets its own filter flags")
        }
        var stayDenied: [String] = [], deniedAnyway: [String] = [], noEffect: [String] = []
        var rules: [SeccompRule] = []
        for entry in try m["syscalls"]?.sequence() ?? [] {
            let e = try entry.mapping(allowedKeys: Self.entryFields)
            guard try applies(e) else { continue }
            let errnoRet = try e["errnoRet"].map(errnoValue) ?? e["errno"].map(errnoName) ?? 1
            let ruleAction = try action(
                e.required("action", hint: "add \"action\": \"SCMP_ACT_ALLOW\""), errno: errnoRet, fragment: &fragment)
            var names: [String] = []
            var nameNodes = try e["names"]?.sequence() ?? []
            if let legacy = e["name"] { nameNodes.append(legacy) }
            for n in nameNodes {
                let name = try n.nonEmptyString()
                if syscalls.number(of: name) != nil {
                    names.append(name)
                } else if ruleAction.permitsCall && !defaultAction.permitsCall {
                    stayDenied.append(name)
                } else if !ruleAction.permitsCall && !defaultAction.permitsCall {
                    deniedAnyway.append(name)
                } else if ruleAction.permitsCall {
                    noEffect.append(name)
                } else {
                    throw n.error(
                        "unknown syscall '\(name)' in a rule that denies it (\(ruleAction.text)) while the default action allows: skipping it would let it through\(Suggest.didYouMean(name, in: syscalls.allNames))",
                        hint:
                            "libseccomp on this host does not know '\(name)'; update libseccomp, or remove the name if the syscall does not exist on x86_64"
                    )
                }
            }
            guard !names.isEmpty else { continue }
            let comment = try e["comment"]?.string()
            rules.append(
                SeccompRule(
                    names: names, action: ruleAction, args: try args(e["args"]),
                    why: (comment?.isEmpty ?? true) ? nil : comment, location: entry.location))
        }
        let file = fragment.file
        func note(_ names: [String], _ consequence: String) {
            guard !names.isEmpty else { return }
            let unique = names.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            fragment.warnings.append(
                "\(file): libseccomp on this host does not know: \(unique.joined(separator: ", ")); \(consequence)")
        }
        note(stayDenied, "they stay denied")
        note(deniedAnyway, "they stay denied by the default action (\(defaultAction.text))")
        note(noEffect, "their rules were skipped; the default action (\(defaultAction.text)) applies")
        fragment.defaultAction = defaultAction
        fragment.rules = rules
        fragment.replacesSeccomp = true
        fragment.description = "Imported OCI seccomp profile \(file); filesystem, network and limits from 'default'"
        fragment.extends = [.init(reference: "default", location: nil)]
    }

    /// Whether an entry applies to an x86_64 sandbox that holds no capabilities.
    private func applies(_ e: YAMLMapping) throws -> Bool {
        if let inc = e["includes"] {
            let m = try inc.mapping(allowedKeys: Self.filterFields)
            if !(try m["caps"]?.stringList() ?? []).isEmpty { return false }
            let arches = try m["arches"]?.stringList() ?? []
            if !arches.isEmpty, Self.hostArches.isDisjoint(with: arches) { return false }
        }
        if let exc = e["excludes"] {
            let m = try exc.mapping(allowedKeys: Self.filterFields)
            _ = try m["caps"]?.stringList()
            let arches = try m["arches"]?.stringList() ?? []
            if !Self.hostArches.isDisjoint(with: arches) { return false }
        }
        return true
    }

    private func action(_ node: YAMLNode, errno: Int32, fragment: inout ProfileFragment) throws -> SeccompAction {
        let text = try node.string()
        switch text {
        case "SCMP_ACT_ALLOW": return .allow
        case "SCMP_ACT_ERRNO": return .errno(errno)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS": return .killProcess
        case "SCMP_ACT_KILL_THREAD":
            fragment.warnings.append(
                "\(node.location): SCMP_ACT_KILL_THREAD is applied as kill (the whole process): killing one thread leaves a process in an undefined state"
            )
            return .killProcess
        case "SCMP_ACT_TRAP": return .trap
        case "SCMP_ACT_LOG": return .log
        case "SCMP_ACT_TRACE", "SCMP_ACT_NOTIFY":
            throw node.error(
                "\(node.fieldDescription) is \(text), which needs a tracer or supervisor that Airlock does not run",
                hint: "use SCMP_ACT_ERRNO (deny) or SCMP_ACT_ALLOW instead")
        default:
            throw node.error(
                "\(node.fieldDescription) must be one of \(Self.actions.joined(separator: ", ")), not '\(text)'\(Suggest.didYouMean(text, in: Self.actions))"
            )
        }
    }

    private func args(_ node: YAMLNode?) throws -> [SeccompArg] {
        guard let node else { return [] }
        var out: [SeccompArg] = []
        for a in try node.sequence() {
            let m = try a.mapping(allowedKeys: Self.argFields)
            let indexNode = try m.required("index")
            let index = try indexNode.int()
            guard (0...5).contains(index) else {
                throw indexNode.error("field '\(indexNode.path)' must be between 0 and 5, not \(index)")
            }
            if out.contains(where: { $0.index == index }) {
                throw indexNode.error(
                    "argument \(index) is compared twice in one entry",
                    hint: "libseccomp accepts one comparison per argument in a rule; split the entry in two")
            }
            let opNode = try m.required("op")
            let opText = try opNode.string()
            guard let op = Self.ops[opText] else {
                throw opNode.error(
                    "field '\(opNode.path)' must be one of \(Self.ops.keys.sorted().joined(separator: ", ")), not '\(opText)'\(Suggest.didYouMean(opText, in: Self.ops.keys))"
                )
            }
            out.append(
                SeccompArg(
                    index: index, op: op, value: try m.required("value").uint64(),
                    valueTwo: try m["valueTwo"]?.uint64() ?? 0))
        }
        return out
    }

    private func errnoValue(_ node: YAMLNode) throws -> Int32 {
        let v = try node.int()
        guard v >= 1, v <= Int(ErrnoName.maximum) else {
            throw node.error(
                "\(node.fieldDescription) must be an errno number from 1 to \(ErrnoName.maximum), not \(v)")
        }
        return Int32(v)
    }

    private func errnoName(_ node: YAMLNode) throws -> Int32 {
        let text = try node.string()
        guard let n = ErrnoName.number(text) else {
            throw node.error("\(node.fieldDescription) is not a known errno name: '\(text)'")
        }
        return n
    }
}

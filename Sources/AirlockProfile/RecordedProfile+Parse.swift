import AirlockCore

extension RecordedProfile {
    /// Read a profile written by `airlock profile record` back (for `--merge`).
    ///
    /// - Throws: `AirlockError(.invalidFile)` naming the file and line when it is not a recorded
    ///   profile (no `extends`, a default action other than errno, rules that are not `allow`).
    public static func parse(text: String, file: String) throws -> RecordedProfile {
        let root = try YAMLReader.parse(text, file: file)
        let map = try root.mapping()
        let extendsNode = try map.required(
            "extends", hint: "only profiles written by `airlock profile record` can be merged")
        let base = try extendsNode.nonEmptyString()
        var recorded = RecordedProfile(base: base)
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# command: ") { recorded.commands.append(String(line.dropFirst(11))) }
            if line.hasPrefix("# PARTIAL: ") { recorded.partialReasons.append(String(line.dropFirst(11))) }
        }
        let seccomp = try map.required("seccomp").mapping()
        if let a = seccomp["defaultAction"], try a.string() != "errno" {
            throw a.error(
                "\(a.fieldDescription) is '\(try a.string())'; a recorded profile is an allow-list (errno)",
                hint: "only profiles written by `airlock profile record` can be merged")
        }
        for rule in try seccomp["rules"]?.sequence() ?? [] {
            let m = try rule.mapping()
            let action = try m.required("action")
            guard try action.string() == "allow" else {
                throw action.error(
                    "\(action.fieldDescription) is '\(try action.string())'; a recorded profile only has allow rules",
                    hint: "only profiles written by `airlock profile record` can be merged")
            }
            let names = try m.required("names").stringList(allowSingle: true)
            guard let argsNode = m["args"] else {
                recorded.calls.formUnion(names)
                continue
            }
            var args: [SeccompArg] = []
            for a in try argsNode.sequence() {
                let am = try a.mapping()
                let op = try am.required("op")
                let index = try am.required("index").int()
                let value = try am.required("value").uint64()
                switch try op.string() {
                case "eq": args.append(SeccompArg(index: index, op: .eq, value: value))
                case "masked_eq":
                    let two = try am.required("valueTwo").uint64()
                    args.append(SeccompArg(index: index, op: .maskedEq, value: value, valueTwo: two))
                default:
                    throw op.error("\(op.fieldDescription) must be 'eq' or 'masked_eq' in a recorded profile")
                }
            }
            for n in names { recorded.argumentRules[n, default: []].insert(args) }
        }
        for name in recorded.calls { recorded.argumentRules[name] = nil }
        return recorded
    }
}

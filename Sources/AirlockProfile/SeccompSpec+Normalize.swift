import AirlockCore

extension SeccompSpec {
    /// The rules in the form libseccomp loads: one syscall per rule, order no longer mattering.
    ///
    /// libseccomp does not apply rules in order: an unconditional rule for a syscall beats every
    /// conditional one, and it refuses a rule whose action equals the default action. This turns
    /// the profile's "later rules override earlier ones" into that model:
    /// - a rule with the same syscall and arguments as an earlier one replaces it;
    /// - an unconditional rule replaces every earlier rule for the syscall (one with the default
    ///   action returns the syscall to the default, so later conditional rules still apply);
    /// - a conditional rule after an unconditional one with the same action is redundant and dropped;
    /// - rules whose action is the default action are dropped (they change nothing).
    ///
    /// - Throws: `AirlockError(.invalidFile)`, naming the rule's location, for a conditional rule
    ///   that follows an unconditional rule for the same syscall with a different action: the
    ///   exception cannot be expressed (write the unconditional rule with the negated condition).
    public func normalizedRules() throws -> [SeccompRule] {
        var perCall: [String: [SeccompRule]] = [:]
        var order: [String] = []
        for rule in rules {
            for name in rule.names {
                var single = rule
                single.names = [name]
                var existing = perCall[name] ?? []
                if existing.isEmpty, perCall[name] == nil { order.append(name) }
                if single.args.isEmpty {
                    // An unconditional rule with the default action puts the call back to the default.
                    existing = single.action == defaultAction ? [] : [single]
                } else if let unconditional = existing.first(where: { $0.args.isEmpty }) {
                    guard unconditional.action != single.action else { continue }
                    let here = rule.location.map { "\($0): " } ?? ""
                    let there = unconditional.location.map { " (at \($0))" } ?? ""
                    throw AirlockError(
                        .invalidFile,
                        "\(here)rule for '\(name)' with arguments (\(single.action.text)) comes after an unconditional rule for it (\(unconditional.action.text))\(there); libseccomp cannot express that exception",
                        hint:
                            "give the earlier rule the opposite condition (e.g. allow clone when (flags & 0x7E020000) == 0) instead of allowing everything and then denying a case"
                    )
                } else if let i = existing.firstIndex(where: { $0.args == single.args }) {
                    existing[i] = single
                } else {
                    existing.append(single)
                }
                perCall[name] = existing
            }
        }
        return order.flatMap { perCall[$0] ?? [] }.filter { $0.action != defaultAction }
    }
}

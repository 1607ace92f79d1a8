extension SeccompPolicy.Action {
    /// A stable spelling, e.g. `errno(1)`, for cache keys.
    public var canonicalText: String {
        switch self {
        case .allow: return "allow"
        case .errno(let e): return "errno(\(e))"
        case .killProcess: return "kill-process"
        case .trap: return "trap"
        case .log: return "log"
        }
    }
}

extension SeccompPolicy {
    /// The policy as deterministic text, one line per rule in rule order (the order is part of
    /// the meaning: it decides which of two conflicting rules libseccomp sees first). Two
    /// policies with the same text compile to the same program with the same libseccomp, so
    /// the on-disk program cache keys on its digest.
    public var canonicalText: String {
        var out = "default \(defaultAction.canonicalText)\n"
        for r in rules {
            out += "rule \(r.syscall) \(r.action.canonicalText)"
            for a in r.args { out += " arg\(a.index) \(a.op) \(a.value) \(a.valueTwo)" }
            out += "\n"
        }
        return out
    }
}

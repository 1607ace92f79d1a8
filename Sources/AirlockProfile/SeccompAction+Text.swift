extension SeccompAction {
    /// The spellings accepted for `action:` and `defaultAction:`.
    public static let spellings = ["allow", "errno", "kill", "trap", "log"]

    /// A short rendering: `allow`, `errno(EPERM)`, `errno(38)`, `kill`, `trap`, `log`.
    public var text: String {
        switch self {
        case .allow: return "allow"
        case let .errno(n): return "errno(\(ErrnoName.name(n) ?? String(n)))"
        case .killProcess: return "kill"
        case .trap: return "trap"
        case .log: return "log"
        }
    }

    /// Whether the action lets the call run (`allow`, `log`).
    public var permitsCall: Bool {
        switch self {
        case .allow, .log: return true
        case .errno, .killProcess, .trap: return false
        }
    }
}

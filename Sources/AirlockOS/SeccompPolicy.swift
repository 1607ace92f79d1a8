/// A seccomp policy in the terms libseccomp uses. `AirlockSandbox` builds it from a profile;
/// `SeccompCompiler` turns it into a BPF program for the helper to install.
public struct SeccompPolicy: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        case allow
        case errno(Int32)
        case killProcess
        case trap
        case log
    }

    public struct ArgCompare: Hashable, Sendable {
        public enum Op: Hashable, Sendable { case eq, ne, lt, le, gt, ge, maskedEq }
        public var index: UInt32
        public var op: Op
        public var value: UInt64
        public var valueTwo: UInt64
        public init(index: UInt32, op: Op, value: UInt64, valueTwo: UInt64 = 0) {
            self.index = index
            self.op = op
            self.value = value
            self.valueTwo = valueTwo
        }
    }

    public struct Rule: Hashable, Sendable {
        public var syscall: String
        public var action: Action
        public var args: [ArgCompare]
        public init(syscall: String, action: Action, args: [ArgCompare] = []) {
            self.syscall = syscall
            self.action = action
            self.args = args
        }
    }

    public var defaultAction: Action
    public var rules: [Rule]

    public init(defaultAction: Action, rules: [Rule]) {
        self.defaultAction = defaultAction
        self.rules = rules
    }
}

import Glibc

/// What `airlock-helper` records while a job runs (`airlock profile record`).
///
/// The helper stacks a filter whose action is `SECCOMP_RET_USER_NOTIF` on top of the profile's,
/// receives every notification outside the sandbox, counts the call and lets it continue. At the
/// end it writes what it saw to `outputPath` (see `SyscallObservations.parse`).
public struct HelperRecording: Hashable, Sendable {
    /// A call whose argument values are recorded, as distinct tuples of the arguments in `mask`.
    public struct ArgumentCall: Hashable, Sendable {
        /// Native syscall number.
        public var number: Int32
        /// Bit i set: argument i is recorded.
        public var mask: UInt32
        public init(number: Int32, mask: UInt32) {
            self.number = number
            self.mask = mask
        }
    }

    /// Host file the helper writes its observations to (created 0600, truncated).
    public var outputPath: String
    /// Calls whose arguments are recorded (at most 32).
    public var argumentCalls: [ArgumentCall]

    public init(outputPath: String, argumentCalls: [ArgumentCall] = []) {
        self.outputPath = outputPath
        self.argumentCalls = argumentCalls
    }
}

/// What the helper observed, parsed from its output file.
public struct SyscallObservations: Hashable, Sendable {
    /// Native syscall number → number of calls.
    public var counts: [Int32: UInt64] = [:]
    /// Native syscall number → distinct argument tuples (only the recorded indices are meaningful).
    public var argumentTuples: [Int32: [[UInt64]]] = [:]
    /// The argument mask recorded for each call in `argumentTuples`.
    public var argumentMasks: [Int32: UInt32] = [:]
    /// Calls whose distinct argument tuples exceeded what the helper keeps (64).
    public var overflowed: Set<Int32> = []
    /// Whether the listener reached the helper (false: the job failed before exec).
    public var listenerReceived = false
    /// Whether the file was complete (the helper wrote its end marker).
    public var complete = false

    public init() {}

    /// Parse the helper's text format: `call NR COUNT`, `args NR MASK V0…V5`, `overflow NR`,
    /// `listener 0|1`, `end`.
    public static func parse(_ text: String) -> SyscallObservations {
        var o = SyscallObservations()
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard let kind = f.first else { continue }
            switch kind {
            case "call" where f.count == 3:
                if let nr = Int32(f[1]), let c = UInt64(f[2]) { o.counts[nr, default: 0] += c }
            case "args" where f.count == 9:
                guard let nr = Int32(f[1]), let mask = UInt32(f[2]) else { continue }
                let values = f[3...].compactMap { UInt64($0) }
                guard values.count == 6 else { continue }
                o.argumentMasks[nr] = mask
                o.argumentTuples[nr, default: []].append(values)
            case "overflow" where f.count == 2:
                if let nr = Int32(f[1]) { o.overflowed.insert(nr) }
            case "listener" where f.count == 2:
                o.listenerReceived = f[1] == "1"
            case "end":
                o.complete = true
            default:
                continue
            }
        }
        return o
    }

    /// libseccomp's name for a native syscall number.
    public static func name(of number: Int32) -> String? {
        LibseccompSyscalls.name(of: number)
    }
}

/// Runs a compiled seccomp program (classic BPF) on one call, the way the kernel does, to tell
/// what the filter decides — evaluated on the exact bytes that are installed, not re-derived from
/// the profile.
///
/// The input is the kernel's `struct seccomp_data`: `nr`, `arch`, `instruction_pointer`,
/// `args[6]` (64 bytes, little-endian on the architectures Airlock supports).
public struct SeccompEvaluator: Sendable {
    /// One call as the filter sees it.
    public struct Call: Hashable, Sendable {
        public var number: Int32
        public var arch: UInt32
        public var instructionPointer: UInt64
        public var args: [UInt64]
        public init(
            number: Int32, arch: UInt32 = SeccompEvaluator.nativeArch, instructionPointer: UInt64 = 0,
            args: [UInt64] = []
        ) {
            self.number = number
            self.arch = arch
            self.instructionPointer = instructionPointer
            self.args = Array((args + Array(repeating: 0, count: 6)).prefix(6))
        }

        /// The 64-byte `struct seccomp_data`.
        var bytes: [UInt8] {
            var out: [UInt8] = []
            func put32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
            func put64(_ v: UInt64) { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
            put32(UInt32(bitPattern: number))
            put32(arch)
            put64(instructionPointer)
            for a in args { put64(a) }
            return out
        }
    }

    /// What the filter returned.
    public enum Decision: Hashable, Sendable, CustomStringConvertible {
        case allow, log, trap, killProcess, killThread, userNotify
        case errno(Int32)
        case trace(UInt16)

        public init(raw: UInt32) {
            switch raw & 0xffff_0000 {
            case 0x7fff_0000: self = .allow
            case 0x7ffc_0000: self = .log
            case 0x7ff0_0000: self = .trace(UInt16(raw & 0xffff))
            case 0x7fc0_0000: self = .userNotify
            case 0x0005_0000: self = .errno(Int32(raw & 0xffff))
            case 0x0003_0000: self = .trap
            case 0x8000_0000: self = .killProcess
            default: self = .killThread  // SECCOMP_RET_KILL_THREAD is 0; unknown actions act as kill
            }
        }

        public var description: String {
            switch self {
            case .allow: return "allow"
            case .log: return "log (allowed, audited)"
            case .trap: return "trap (SIGSYS)"
            case .killProcess: return "kill process (SIGSYS)"
            case .killThread: return "kill thread (SIGSYS)"
            case .userNotify: return "user notification"
            case .errno(let e): return "errno \(e)"
            case .trace(let t): return "trace \(t)"
            }
        }
    }

    /// A program that cannot be run (the kernel would have refused to load it).
    public struct InvalidProgram: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The native audit architecture (`AUDIT_ARCH_X86_64` / `AUDIT_ARCH_AARCH64`).
    public static let nativeArch: UInt32 = {
        #if arch(x86_64)
            return 0xC000_003E
        #elseif arch(arm64)
            return 0xC000_00B7
        #else
            return 0
        #endif
    }()

    let code: [(op: UInt16, jt: UInt8, jf: UInt8, k: UInt32)]

    public init(program: SeccompProgram) {
        let b = program.bytes
        var code: [(op: UInt16, jt: UInt8, jf: UInt8, k: UInt32)] = []
        var i = 0
        while i + 8 <= b.count {
            let op = UInt16(b[i]) | (UInt16(b[i + 1]) << 8)
            var k = UInt32(b[i + 4])
            k |= UInt32(b[i + 5]) << 8
            k |= UInt32(b[i + 6]) << 16
            k |= UInt32(b[i + 7]) << 24
            code.append((op, b[i + 2], b[i + 3], k))
            i += 8
        }
        self.code = code
    }

    /// The raw return value of the program for `call`.
    public func run(_ call: Call) throws -> UInt32 {
        let data = call.bytes
        var a: UInt32 = 0
        var x: UInt32 = 0
        var mem = [UInt32](repeating: 0, count: 16)
        var pc = 0
        func word(_ off: UInt32) throws -> UInt32 {
            guard off % 4 == 0, Int(off) + 4 <= data.count else {
                throw InvalidProgram(description: "load at offset \(off) outside seccomp_data (instruction \(pc))")
            }
            let o = Int(off)
            var v = UInt32(data[o])
            v |= UInt32(data[o + 1]) << 8
            v |= UInt32(data[o + 2]) << 16
            v |= UInt32(data[o + 3]) << 24
            return v
        }
        while pc < code.count {
            let (op, jt, jf, k) = code[pc]
            pc += 1
            let src = (op & 0x08) != 0 ? x : k  // BPF_X : BPF_K
            switch op & 0x07 {
            case 0x00:  // BPF_LD
                switch op & 0xe0 {
                case 0x20: a = try word(k)  // ABS
                case 0x00: a = k  // IMM
                case 0x60: a = mem[Int(k & 15)]  // MEM
                case 0x80: a = UInt32(data.count)  // LEN
                default: throw InvalidProgram(description: "unsupported load 0x\(String(op, radix: 16))")
                }
            case 0x01:  // BPF_LDX
                switch op & 0xe0 {
                case 0x00: x = k
                case 0x60: x = mem[Int(k & 15)]
                case 0x80: x = UInt32(data.count)
                default: throw InvalidProgram(description: "unsupported ldx 0x\(String(op, radix: 16))")
                }
            case 0x02: mem[Int(k & 15)] = a  // BPF_ST
            case 0x03: mem[Int(k & 15)] = x  // BPF_STX
            case 0x04:  // BPF_ALU
                switch op & 0xf0 {
                case 0x00: a = a &+ src
                case 0x10: a = a &- src
                case 0x20: a = a &* src
                case 0x30:
                    guard src != 0 else { return 0 }
                    a = a / src
                case 0x40: a = a | src
                case 0x50: a = a & src
                case 0x60: a = src >= 32 ? 0 : a << src
                case 0x70: a = src >= 32 ? 0 : a >> src
                case 0x80: a = 0 &- a
                case 0x90:
                    guard src != 0 else { return 0 }
                    a = a % src
                case 0xa0: a = a ^ src
                default: throw InvalidProgram(description: "unsupported alu 0x\(String(op, radix: 16))")
                }
            case 0x05:  // BPF_JMP
                let taken: Bool
                switch op & 0xf0 {
                case 0x00:
                    pc += Int(k)
                    continue
                case 0x10: taken = a == src
                case 0x20: taken = a > src
                case 0x30: taken = a >= src
                case 0x40: taken = (a & src) != 0
                default: throw InvalidProgram(description: "unsupported jump 0x\(String(op, radix: 16))")
                }
                pc += Int(taken ? jt : jf)
            case 0x06: return (op & 0x18) == 0x10 ? a : k  // BPF_RET (A or K)
            default:  // BPF_MISC
                if (op & 0xf8) == 0x00 { x = a } else { a = x }  // TAX / TXA
            }
        }
        throw InvalidProgram(description: "the program ran off its end without returning")
    }

    /// What the filter decides for `call`.
    public func decide(_ call: Call) throws -> Decision { Decision(raw: try run(call)) }
}

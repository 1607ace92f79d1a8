import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation

/// This host's syscall table, libseccomp's names and numbers for the native architecture: what
/// profiles are loaded, linted and tested against. Commands use it instead of reaching into the
/// OS layer (see Layers.txt).
public struct HostSyscalls: SyscallTable {
    public init() {}

    /// The native number for `name`, or nil when libseccomp does not know the name at all.
    /// Names that exist only on other architectures resolve to negative pseudo-numbers.
    public func number(of name: String) -> Int32? { LibseccompSyscalls().number(of: name) }

    /// Every native syscall name libseccomp knows.
    public var allNames: [String] { LibseccompSyscalls().allNames }

    /// The version of the libseccomp the names come from, for messages.
    public static var libraryVersion: String { LibseccompSyscalls.libraryVersion }
}

/// A profile's seccomp filter compiled to the BPF program a sandbox installs, for
/// `airlock profile explain`: its size, and what it decides for one call.
public struct CompiledSeccompFilter: Sendable {
    let program: SeccompProgram

    /// The number of BPF instructions.
    public var instructionCount: Int { program.instructionCount }

    /// What the filter does with syscall `number` called with `args` (missing ones are 0), by
    /// running the compiled program, not by re-deriving it from the profile: `errno` is set when
    /// the call fails with that errno, `text` says the decision in words.
    public func decide(number: Int32, args: [UInt64]) throws -> (errno: Int32?, text: String) {
        let decision = try SeccompEvaluator(program: program).decide(.init(number: number, args: args))
        if case .errno(let e) = decision { return (e, decision.description) }
        return (nil, decision.description)
    }
}

extension SeccompProgramCache {
    /// `spec` compiled (once per policy), as the filter `airlock profile explain` inspects.
    public func filter(for spec: SeccompSpec, profileName: String) throws -> CompiledSeccompFilter {
        CompiledSeccompFilter(program: try program(for: spec, profileName: profileName))
    }
}

import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation

extension LibseccompSyscalls: SyscallTable {}

extension SeccompSpec {
    /// The libseccomp policy for this profile section, from `normalizedRules()` (one syscall
    /// per rule, overrides resolved the way libseccomp can express them).
    public func policy() throws -> SeccompPolicy {
        func action(_ a: SeccompAction) -> SeccompPolicy.Action {
            switch a {
            case .allow: return .allow
            case .errno(let e): return .errno(e)
            case .killProcess: return .killProcess
            case .trap: return .trap
            case .log: return .log
            }
        }
        func op(_ o: SeccompArg.Op) -> SeccompPolicy.ArgCompare.Op {
            switch o {
            case .eq: return .eq
            case .ne: return .ne
            case .lt: return .lt
            case .le: return .le
            case .gt: return .gt
            case .ge: return .ge
            case .maskedEq: return .maskedEq
            }
        }
        var rules: [SeccompPolicy.Rule] = []
        for r in try normalizedRules() {
            let args = r.args.map {
                SeccompPolicy.ArgCompare(index: UInt32($0.index), op: op($0.op), value: $0.value, valueTwo: $0.valueTwo)
            }
            for n in r.names { rules.append(.init(syscall: n, action: action(r.action), args: args)) }
        }
        return SeccompPolicy(defaultAction: action(defaultAction), rules: rules)
    }
}

/// Compiled programs, keyed by policy, so a runner compiles each profile once — and, with a
/// `store`, once per host: a program compiled by an earlier process is loaded from disk.
public final class SeccompProgramCache: @unchecked Sendable {
    private var programs: [SeccompPolicy: SeccompProgram] = [:]
    private var memfds: [SeccompProgram: OwnedFD] = [:]
    private let lock = NSLock()
    /// Programs on disk, shared by every process using the same state directory.
    public let store: SeccompProgramStore?
    private let state: StateDirectory?

    /// With `state`, programs are also kept in `<state>/cache/seccomp` (see `SeccompProgramStore`).
    public init(state: StateDirectory? = nil) {
        self.state = state
        store = state.map { SeccompProgramStore(directory: $0.path + "/" + Self.storeName) }
    }

    static let storeName = "cache/seccomp"

    /// A memfd holding `program`, made once and shared by every launch.
    public func memfd(for program: SeccompProgram) throws -> OwnedFD {
        lock.lock()
        defer { lock.unlock() }
        if let fd = memfds[program] { return fd }
        let fd = try OwnedFD.memfd("airlock-bpf", contents: program.bytes)
        memfds[program] = fd
        return fd
    }

    public func program(for spec: SeccompSpec, profileName: String) throws -> SeccompProgram {
        let policy: SeccompPolicy
        do { policy = try spec.policy() } catch let e as AirlockError { throw e }
        lock.lock()
        defer { lock.unlock() }
        if let p = programs[policy] { return p }
        let key = store.map { _ in SeccompProgramStore.key(for: policy) }
        if let store, let key, let p = store.load(key: key) {
            programs[policy] = p
            return p
        }
        do {
            let p = try SeccompCompiler.compile(policy)
            programs[policy] = p
            // Best effort: a state directory that cannot take the file only costs a recompile.
            if let store, let key, state?.cacheDirectory(Self.storeName) != nil { try? store.store(p, key: key) }
            return p
        } catch let e as OSError {
            throw AirlockError(
                .sandboxSetup, "cannot compile the seccomp filter of profile '\(profileName)': \(e)",
                hint: e.hint ?? "check the profile's seccomp rules with `airlock profile lint`")
        }
    }
}

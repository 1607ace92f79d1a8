import AirlockCore
import AirlockOS
import AirlockProfile
import Foundation

/// Runs a command sandboxed under a base profile while recording every call it and its children
/// make (through the helper's seccomp user-notification listener), and turns what was observed
/// into a `RecordedProfile`.
public enum ProfileRecorder {
    /// The outcome of one recorded run.
    public struct Outcome: Sendable {
        public var result: SandboxResult
        public var observations: SyscallObservations
        public var profile: RecordedProfile
    }

    /// The calls whose arguments must be recorded: those the base profile treats differently
    /// depending on their arguments (so the recorded profile can keep the same distinction).
    public static func argumentCalls(for base: Profile) throws -> [HelperRecording.ArgumentCall] {
        var masks: [String: UInt32] = [:]
        for rule in try base.seccomp.normalizedRules() where !rule.args.isEmpty {
            for name in rule.names {
                for a in rule.args { masks[name, default: 0] |= 1 << UInt32(a.index) }
            }
        }
        let syscalls = LibseccompSyscalls()
        return masks.keys.sorted().compactMap { name in
            guard let nr = syscalls.number(of: name), nr >= 0 else { return nil }
            return .init(number: nr, mask: masks[name]!)
        }.prefix(32).map { $0 }
    }

    /// Run `spec` (whose profile is the base) with recording on; `baseReference` is what the
    /// recorded profile's `extends` says.
    public static func record(
        sandbox: Sandbox, spec: SandboxSpec, identity: SandboxIdentity? = nil, baseReference: String
    ) throws -> Outcome {
        let out = sandbox.state.path + "/record-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).txt"
        defer { unlink(out) }
        var spec = spec
        spec.recording = HelperRecording(outputPath: out, argumentCalls: try argumentCalls(for: spec.profile))
        let result = try sandbox.runBlocking(spec, identity: identity)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let observations = SyscallObservations.parse(text)
        var profile = convert(observations, base: baseReference, lowHalf: try lowHalfArguments(of: spec.profile))
        profile.commands = [commandText(spec.command)]
        if result.exitCode != 0 {
            profile.partialReasons.append(
                result.timedOut
                    ? "the command timed out; only the calls made until then are listed"
                    : "the command failed (exit status \(result.exitCode)); only the calls it made before failing are listed"
            )
        }
        if !observations.complete {
            profile.partialReasons.append("the recorder's output was incomplete")
        }
        return Outcome(result: result, observations: observations, profile: profile)
    }

    /// Per call, the argument indices the base compares in their low 32 bits only (`masked_eq`
    /// with a 32-bit mask: C `int` arguments such as socket's domain or ioctl's request, whose
    /// upper register half the kernel ignores). The recording compares those the same way.
    public static func lowHalfArguments(of base: Profile) throws -> [String: Set<Int>] {
        var low: [String: Set<Int>] = [:]
        var full: [String: Set<Int>] = [:]
        for rule in try base.seccomp.normalizedRules() {
            for name in rule.names {
                for a in rule.args {
                    if a.op == .maskedEq && a.value <= 0xffff_ffff {
                        low[name, default: []].insert(a.index)
                    } else {
                        full[name, default: []].insert(a.index)
                    }
                }
            }
        }
        return low.reduce(into: [:]) { out, kv in out[kv.key] = kv.value.subtracting(full[kv.key] ?? []) }
    }

    /// Observations (numbers) → a recorded profile (names, argument rules).
    public static func convert(_ o: SyscallObservations, base: String, lowHalf: [String: Set<Int>] = [:])
        -> RecordedProfile
    {
        var p = RecordedProfile(base: base)
        for nr in o.counts.keys.sorted() {
            guard let name = SyscallObservations.name(of: nr) else {
                p.partialReasons.append("syscall number \(nr) has no name in libseccomp and is not listed")
                continue
            }
            guard let tuples = o.argumentTuples[nr], let mask = o.argumentMasks[nr] else {
                p.calls.insert(name)
                continue
            }
            for t in tuples {
                let args = (0..<6).filter { mask & (1 << UInt32($0)) != 0 }.map { i in
                    lowHalf[name]?.contains(i) == true
                        ? SeccompArg(index: i, op: .maskedEq, value: 0xffff_ffff, valueTwo: t[i] & 0xffff_ffff)
                        : SeccompArg(index: i, op: .eq, value: t[i])
                }
                p.argumentRules[name, default: []].insert(args)
            }
            if o.overflowed.contains(nr) {
                p.partialReasons.append(
                    "\(name) was called with more than 64 distinct argument values; only the first 64 are allowed")
            }
        }
        return p
    }

    /// The command as a person would type it.
    public static func commandText(_ argv: [String]) -> String {
        argv.map { a in
            a.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@".contains($0) } && !a.isEmpty
                ? a : "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

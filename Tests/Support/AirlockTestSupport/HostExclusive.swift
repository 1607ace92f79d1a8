import Testing

/// Runs a suite alone among the suites that carry this trait. Integration suites that check the
/// whole host for leftovers (processes under sandbox uids, job cgroups, mounts) carry it: the
/// sandbox suite and the agent suite live in different test targets, which `swift test` runs in
/// one process and in parallel, and one's sandboxes would be the other's leftovers.
public struct HostExclusive: SuiteTrait, TestTrait, TestScoping {
    static let gate = Gate()

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await Self.gate.enter()
        do {
            try await function()
        } catch {
            await Self.gate.leave()
            throw error
        }
        await Self.gate.leave()
    }

    /// One holder at a time, first come first served.
    actor Gate {
        private var held = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func enter() async {
            if !held {
                held = true
                return
            }
            await withCheckedContinuation { waiting.append($0) }
        }

        func leave() {
            if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
        }
    }
}

extension Trait where Self == HostExclusive {
    /// See `HostExclusive`.
    public static var hostExclusive: Self { HostExclusive() }
}

/// The pipeline's last stage, on every path (success, failure, timeout, cancellation, a thrown
/// error): what earlier stages acquired — the out dir's staging, the uid slot, the workspace — is
/// released in the reverse order of acquisition, each exactly once. A stage that acquires
/// something registers its release here right after acquiring it, so nothing is left behind
/// even when the next line throws.
public final class Teardown {
    private var actions: [(name: String, release: () -> Void)] = []

    public init() {}

    /// Register the release of something just acquired (`name` says what, for `pending`).
    public func add(_ name: String, _ release: @escaping () -> Void) {
        actions.append((name, release))
    }

    /// What would still be released, newest first.
    public var pending: [String] { actions.reversed().map(\.name) }

    /// Release everything, newest first. Idempotent.
    public func run() {
        while let last = actions.popLast() { last.release() }
    }
}

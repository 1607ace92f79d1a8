import AirlockCore
import AirlockOS
import Foundation

/// The lease journal: `<stateDir>/leases/journal.jsonl` (0600, in a 0700 directory), one JSON
/// line per event — `{"event":"issued","lease":{…}}` or `{"event":"revoked",…}` — each
/// fsynced before `append` returns.
///
/// A lease is written as soon as it exists and its revocation when it is revoked, so after a
/// crash `outstanding()` is exactly what may still be valid, and `replay` revokes it. Leases
/// never hold secret values (only broker ids, names and sources). All writers using the same
/// state directory serialize on `leases/journal.lock`.
///
/// `replay` revokes *every* outstanding lease: run it only when no other runner is using the
/// state directory (at start-up, under the runner's own lock), or it would revoke the leases
/// of jobs still running.
public struct LeaseJournal: Sendable {
    /// One journal line.
    public struct Event: Codable, Sendable, Equatable {
        /// `issued` or `revoked`.
        public var event: String
        public var lease: Lease
        /// When the line was written.
        public var at: Date
    }

    /// `<stateDir>/leases`.
    public let directory: String
    /// `<stateDir>/leases/journal.jsonl`.
    public var path: String { "\(directory)/journal.jsonl" }
    var lockPath: String { "\(directory)/journal.lock" }
    let now: @Sendable () -> Date

    /// The journal under `stateDir`. `now` is the clock (tests pass a fixed one).
    public init(stateDir: String, now: @escaping @Sendable () -> Date = { Date() }) {
        directory = (stateDir as NSString).appendingPathComponent("leases")
        self.now = now
    }

    /// Records that `lease` was issued (and must be revoked).
    public func append(issued lease: Lease) throws {
        try append(Event(event: "issued", lease: lease, at: now()))
    }

    /// Records that `lease` was revoked (or is known to be gone).
    public func append(revoked lease: Lease) throws {
        try append(Event(event: "revoked", lease: lease, at: now()))
    }

    func append(_ event: Event) throws {
        do {
            try PrivateFile.ensureDirectory(directory, mode: 0o700)
            try PrivateFile.appendLine(path, try LeaseJSON.line(event), lockPath: lockPath)
        } catch let e as AirlockError {
            throw AirlockError(
                .secretJournal, "cannot write the lease journal \(path): \(e.message)", hint: e.hint, cause: e)
        }
    }

    /// Every event in the journal, in order (torn lines are skipped).
    public func events() throws -> [Event] {
        guard let bytes = try PrivateFile.readIfExists(path) else { return [] }
        return LeaseJSON.lines(bytes, as: Event.self).values
    }

    /// The leases issued and not revoked, in the order they were issued.
    public func outstanding() throws -> [Lease] {
        Self.outstanding(in: try events())
    }

    static func outstanding(in events: [Event]) -> [Lease] {
        var open: [String: Lease] = [:]
        var order: [String] = []
        for e in events {
            switch e.event {
            case "issued":
                if open[e.lease.key] == nil { order.append(e.lease.key) }
                open[e.lease.key] = e.lease
            case "revoked":
                open[e.lease.key] = nil
            default:
                break
            }
        }
        var seen = Set<String>()
        return order.compactMap { k in seen.insert(k).inserted ? open[k] : nil }
    }

    /// Rewrites the journal keeping only the `issued` lines of outstanding leases (atomically,
    /// under the journal lock, so concurrent appends are never lost).
    public func compact() throws {
        guard PrivateFile.mode(directory) != nil else { return }
        try PrivateFile.withLock(lockPath) {
            guard let bytes = try PrivateFile.readIfExists(path) else { return }
            let all = LeaseJSON.lines(bytes, as: Event.self).values
            let keep = Set(Self.outstanding(in: all).map(\.key))
            var out: [UInt8] = []
            var written = Set<String>()
            for e in all where e.event == "issued" && keep.contains(e.lease.key) {
                if written.insert(e.lease.key).inserted { out += try LeaseJSON.line(e) }
            }
            try PrivateFile.replace(path, contents: out, mode: 0o600)
        }
    }
}

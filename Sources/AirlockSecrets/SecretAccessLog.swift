import AirlockCore
import AirlockOS
import Foundation

/// The access record: `<stateDir>/leases/access.jsonl` (0600), one JSON line per lease event —
/// which job got which secret from where, under which lease, when it was issued and when it
/// was revoked. It never contains a value.
public struct SecretAccessLog: Sendable {
    /// What happened to a lease.
    public enum Action: String, Codable, Sendable {
        case issued
        case revoked
        /// A revocation failed; the lease stays in the journal for a replay.
        case revokeFailed = "revoke-failed"
    }

    /// One line of the access record.
    public struct Entry: Codable, Sendable, Equatable {
        public var event: Action
        /// When the event happened.
        public var at: Date
        public var job: String
        /// The name the job sees.
        public var secret: String
        /// Where it came from (`local:NAME`, `vault:PATH#FIELD`, …).
        public var source: String
        public var broker: String
        public var leaseKind: String
        public var leaseID: String
        public var issued: Date
        public var expires: Date
        /// Set for `revoked` events.
        public var revoked: Date?
    }

    /// `<stateDir>/leases`.
    public let directory: String
    /// `<stateDir>/leases/access.jsonl`.
    public var path: String { "\(directory)/access.jsonl" }
    let now: @Sendable () -> Date

    /// The access record under `stateDir`.
    public init(stateDir: String, now: @escaping @Sendable () -> Date = { Date() }) {
        directory = (stateDir as NSString).appendingPathComponent("leases")
        self.now = now
    }

    /// Appends one line for `action` on `lease` (fsynced).
    public func record(_ action: Action, _ lease: Lease) throws {
        let t = now()
        let entry = Entry(
            event: action, at: t, job: lease.jobID, secret: lease.secretName, source: lease.source,
            broker: lease.broker, leaseKind: lease.kind, leaseID: lease.id, issued: lease.issuedAt,
            expires: lease.expiresAt, revoked: action == .revoked ? t : nil)
        do {
            try PrivateFile.ensureDirectory(directory, mode: 0o700)
            try PrivateFile.appendLine(path, try LeaseJSON.line(entry), lockPath: "\(directory)/access.lock")
        } catch let e as AirlockError {
            throw AirlockError(
                .secretJournal, "cannot write the secret access record \(path): \(e.message)", hint: e.hint, cause: e)
        }
    }

    /// Every entry, in order (torn lines are skipped).
    public func entries() throws -> [Entry] {
        guard let bytes = try PrivateFile.readIfExists(path) else { return [] }
        return LeaseJSON.lines(bytes, as: Entry.self).values
    }
}

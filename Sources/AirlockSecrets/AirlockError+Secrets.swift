import AirlockCore

extension AirlockError.Code {
    /// A secret name that the embedded store (or a broker) does not know.
    public static let secretUnknown: Self = "secret.unknown"
    /// A sealed secret file that fails authentication: corrupted, tampered with or swapped.
    public static let secretTampered: Self = "secret.tampered"
    /// The embedded store's key or directory is missing, unreadable or has unsafe permissions.
    public static let secretStore: Self = "secret.store"
    /// A broker refused or failed to issue a secret.
    public static let secretIssue: Self = "secret.issue"
    /// One or more leases could not be revoked; they stay in the lease journal for a replay.
    public static let secretRevoke: Self = "secret.revoke"
    /// The lease journal or the access record could not be written or read.
    public static let secretJournal: Self = "secret.journal"
}

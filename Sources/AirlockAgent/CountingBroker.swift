import AirlockSecrets

/// Forwards to a broker and counts revoked leases for the agent's metrics.
public struct CountingBroker: SecretBroker {
    let inner: any SecretBroker
    let onRevoke: @Sendable () -> Void

    public init(_ inner: any SecretBroker, onRevoke: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.onRevoke = onRevoke
    }

    public var name: String { inner.name }

    public func issue(jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void) throws
        -> [IssuedSecret]
    {
        try inner.issue(jobID: jobID, requests: requests, ttl: ttl, record: record)
    }

    public func revoke(_ lease: Lease) throws {
        try inner.revoke(lease)
        onRevoke()
    }
}

extension AgentMetrics {
    /// Count `n` revoked leases.
    public func leasesRevoked(_ n: Int) { if n > 0 { leasesRevoked.increment(by: Int64(n)) } }
}

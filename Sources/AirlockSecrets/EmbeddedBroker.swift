import AirlockCore
import Foundation

/// The broker for `local:` secrets: issues them from the `EmbeddedSecretStore`.
///
/// Each issued secret gets one lease (`kind: "embedded"`, a random id, expiring at
/// `now + min(request ttl, ttl)`), journalled like any other so the access record is complete.
/// `revoke` is a no-op that always succeeds: an embedded secret cannot be invalidated at a
/// source — its value exists only in the runner's memory (zeroed after the job) and in the
/// sandbox's private tmpfs, which is destroyed with the sandbox. The lease only records that
/// the job had it, and for how long.
public struct EmbeddedBroker: SecretBroker {
    public let name = "embedded"
    public let store: EmbeddedSecretStore
    let now: @Sendable () -> Date

    /// A broker serving `store`. `now` is the clock (tests pass a fixed one).
    public init(store: EmbeddedSecretStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.now = now
    }

    /// Issues every request from the store. All-or-nothing: the sources are checked first, and
    /// if any value is missing the values read so far are wiped before the error is thrown.
    /// - Throws: `AirlockError(.secretIssue)` for a source that is not `local:`;
    ///   `.secretUnknown` / `.secretTampered` / `.secretStore` from the store.
    public func issue(
        jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void
    ) throws -> [IssuedSecret] {
        var names: [String] = []
        for r in requests {
            guard case let .local(storeName) = r.source else {
                throw AirlockError(
                    .secretIssue,
                    "secret '\(r.name)' comes from '\(r.source.sourceString)', which the embedded store cannot issue",
                    hint:
                        "configure an OpenBao broker for vault: sources, or use 'source: local:NAME' with 'airlock secrets put NAME'"
                )
            }
            names.append(storeName)
        }
        var issued: [IssuedSecret] = []
        do {
            for (request, storeName) in zip(requests, names) {
                let value = try store.get(name: storeName)
                let t = now()
                let lifetime = min(request.ttl ?? ttl, ttl)
                let lease = Lease(
                    broker: name, id: randomHex(16), kind: "embedded", jobID: jobID, secretName: request.name,
                    source: request.source.sourceString, issuedAt: t, expiresAt: t.addingTimeInterval(lifetime))
                issued.append(IssuedSecret(request: request, value: value, leases: [lease]))
                try record(lease)
            }
        } catch {
            for s in issued { s.value.wipe() }
            throw error
        }
        return issued
    }

    /// Nothing to revoke (see the type's documentation); always succeeds.
    public func revoke(_ lease: Lease) throws {}
}

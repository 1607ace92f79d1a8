import AirlockCore
import Foundation

/// Scoped secrets for one job: issue, use, revoke — on every path.
public enum SecretScope {
    /// Issues `requests` from `broker` for job `jobID`, runs `body` with the issued secrets, and
    /// then revokes every lease and wipes every value, whether `body` returns or throws.
    ///
    /// - Every lease is written to `journal` (and `access`) the moment the broker reports it,
    ///   before the next is issued, so a crash leaves it for `LeaseJournal.replay`.
    /// - If issuing fails part-way, the leases recorded so far are revoked here as well (the
    ///   broker promises the same; revocation is idempotent), and the issue error is thrown.
    /// - Each successful revocation is journalled and recorded. A revocation that fails leaves
    ///   its lease in the journal; the others are still revoked, and then an
    ///   `AirlockError(.secretRevoke)` naming the failed leases is thrown (mentioning `body`'s
    ///   error too when there was one, which becomes its `cause`).
    ///
    /// Do not keep the `SecretValue`s beyond `body`: they are wiped when it ends.
    public static func withSecrets<R>(
        broker: any SecretBroker, journal: LeaseJournal, access: SecretAccessLog, jobID: String,
        requests: [SecretRequest], ttl: Double, body: ([IssuedSecret]) throws -> R
    ) throws -> R {
        var leases: [Lease] = []
        var issued: [IssuedSecret] = []
        let result: Result<R, any Error>
        do {
            issued = try broker.issue(jobID: jobID, requests: requests, ttl: ttl) { lease in
                // Remember it before anything can fail, so it is revoked whatever happens next.
                leases.append(lease)
                try journal.append(issued: lease)
                try access.record(.issued, lease)
            }
            // A lease the broker returned without passing it to `record` is still revoked.
            let known = Set(leases.map(\.key))
            for s in issued { for l in s.leases where !known.contains(l.key) { leases.append(l) } }
            result = Result { try body(issued) }
        } catch {
            result = .failure(error)
        }
        for s in issued { s.value.wipe() }
        let failures = revokeAll(leases, broker: broker, journal: journal, access: access)
        if !failures.isEmpty {
            var message =
                "job \(jobID): \(failures.count) of \(leases.count) secret lease(s) could not be revoked: "
                + failures.map {
                    "\($0.lease.broker) \($0.lease.kind) \($0.lease.id) (secret '\($0.lease.secretName)'): \($0.error)"
                }
                .joined(separator: "; ")
            var cause: (any Error & Sendable)? = failures.first.map { ErrorText("\($0.error)") }
            if case let .failure(error) = result {
                message += " (the job had failed too: \(error))"
                cause = error
            }
            throw AirlockError(
                .secretRevoke, message,
                hint:
                    "they stay in the lease journal (\(journal.path)); fix the broker and run the lease replay, or revoke them at the broker by hand",
                cause: cause)
        }
        return try result.get()
    }

    /// Revokes each lease (in reverse order of issue), journalling and recording each outcome.
    /// Returns the ones that failed.
    static func revokeAll(
        _ leases: [Lease], broker: any SecretBroker, journal: LeaseJournal, access: SecretAccessLog
    ) -> [(lease: Lease, error: any Error)] {
        var failures: [(lease: Lease, error: any Error)] = []
        for lease in leases.reversed() {
            do {
                try broker.revoke(lease)
            } catch {
                failures.append((lease, error))
                try? access.record(.revokeFailed, lease)
                continue
            }
            // If the journal cannot be written the lease is merely revoked again by the next
            // replay (revocation is idempotent), so a write failure here is not an error.
            try? journal.append(revoked: lease)
            try? access.record(.revoked, lease)
        }
        return failures.reversed()
    }
}

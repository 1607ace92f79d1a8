import AirlockCore
import Foundation

extension LeaseJournal {
    /// Revokes every outstanding lease — the ones a crashed runner left behind — and records
    /// each revocation, then compacts the journal.
    ///
    /// Expired `embedded` leases are recorded as revoked without calling a broker: their value
    /// lived only in the sandbox's tmpfs, which is gone. A lease whose broker is not in
    /// `brokers`, or whose revocation throws, stays outstanding and is returned in `failed`
    /// (the next replay tries again). `log` receives one human-readable line per lease (never a
    /// value). Run it only when no other runner uses the state directory (see the type's doc).
    ///
    /// - Returns: how many leases were revoked (or found already dead), and the ones that failed.
    public func replay(
        brokers: [String: any SecretBroker], access: SecretAccessLog? = nil, log: (String) -> Void
    ) throws -> (revoked: Int, failed: [Lease]) {
        let leases = try outstanding()
        var revoked = 0
        var failed: [Lease] = []
        let now = now()
        for lease in leases {
            let what = "\(lease.broker) \(lease.kind) \(lease.id) (job \(lease.jobID), secret '\(lease.secretName)')"
            if lease.kind == "embedded", lease.expiresAt <= now {
                note(lease, log)
                try? access?.record(.revoked, lease)
                log("lease \(what): expired, nothing to revoke")
                revoked += 1
                continue
            }
            guard let broker = brokers[lease.broker] else {
                log(
                    "lease \(what): no broker named '\(lease.broker)' is configured; left in the journal (configure it and run again)"
                )
                failed.append(lease)
                continue
            }
            do {
                try broker.revoke(lease)
            } catch {
                log("lease \(what): revoke failed: \(error); left in the journal for the next replay")
                try? access?.record(.revokeFailed, lease)
                failed.append(lease)
                continue
            }
            note(lease, log)
            try? access?.record(.revoked, lease)
            log("lease \(what): revoked")
            revoked += 1
        }
        if !leases.isEmpty {
            do { try compact() } catch { log("\(error)") }
        }
        return (revoked, failed)
    }

    /// Records a revocation; when the journal cannot be written the lease is merely revoked
    /// again by the next replay (revocation is idempotent), so this only logs.
    private func note(_ lease: Lease, _ log: (String) -> Void) {
        do { try append(revoked: lease) } catch { log("\(error)") }
    }

    /// `replay(brokers:access:log:)` without an access record.
    public func replay(brokers: [String: any SecretBroker], log: (String) -> Void) throws -> (
        revoked: Int, failed: [Lease]
    ) {
        try replay(brokers: brokers, access: nil, log: log)
    }
}

import AirlockCore
import Foundation

/// A broker that sends each request to the broker for its source — `local:` to one,
/// `vault:` and `vault-dynamic:` to another — so a job mixing sources needs one scope.
///
/// Leases keep the name of the broker that issued them, and `revoke` routes by that name, so
/// the journal replays the same way with or without the router.
public struct SecretBrokerRouter: SecretBroker {
    public let name = "router"
    /// The broker for `local:` sources (normally `EmbeddedBroker`).
    public var local: (any SecretBroker)?
    /// The broker for `vault:` and `vault-dynamic:` sources (normally the OpenBao broker).
    public var vault: (any SecretBroker)?

    public init(local: (any SecretBroker)?, vault: (any SecretBroker)?) {
        self.local = local
        self.vault = vault
    }

    /// Issues each group from its broker, in the order `local` then `vault`, and returns the
    /// secrets in the order of `requests`. All-or-nothing: if a later group fails, the leases
    /// of the earlier ones are revoked and their values wiped before the error is thrown.
    public func issue(
        jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void
    ) throws -> [IssuedSecret] {
        var localRequests: [SecretRequest] = []
        var vaultRequests: [SecretRequest] = []
        for r in requests {
            if case .local = r.source { localRequests.append(r) } else { vaultRequests.append(r) }
        }
        var done: [(broker: any SecretBroker, secrets: [IssuedSecret])] = []
        do {
            for (broker, group, kind) in [(local, localRequests, "local:"), (vault, vaultRequests, "vault:")]
            where !group.isEmpty {
                guard let broker else {
                    throw AirlockError(
                        .secretIssue,
                        "secret '\(group[0].name)' comes from '\(group[0].source.sourceString)', but no broker for \(kind) sources is configured",
                        hint: kind == "local:"
                            ? "the embedded store lives in the state directory; check the runner's configuration"
                            : "configure the OpenBao address and authentication for the runner")
                }
                done.append((broker, try broker.issue(jobID: jobID, requests: group, ttl: ttl, record: record)))
            }
        } catch {
            for (broker, secrets) in done {
                for s in secrets {
                    s.value.wipe()
                    for l in s.leases { try? broker.revoke(l) }
                }
            }
            throw error
        }
        let all = done.flatMap(\.secrets)
        return requests.compactMap { r in all.first { $0.request.name == r.name } }
    }

    /// Revokes `lease` with the broker that issued it (by `lease.broker`).
    public func revoke(_ lease: Lease) throws {
        for case let broker? in [local, vault] where broker.name == lease.broker {
            return try broker.revoke(lease)
        }
        throw AirlockError(
            .secretRevoke, "no configured broker is named '\(lease.broker)' to revoke lease \(lease.id)",
            hint: "configure that broker and run the lease replay")
    }
}

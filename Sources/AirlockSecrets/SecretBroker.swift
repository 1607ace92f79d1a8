import AirlockCore
import Foundation

/// Where a secret comes from, as a job declares it (`secrets:` in the job file).
public enum SecretSource: Hashable, Sendable {
    /// `local:NAME` — the embedded, encrypted store in the runner's state directory.
    case local(name: String)
    /// `vault:PATH#FIELD` — a KV v2 value (`PATH` is `<mount>/<path>`, e.g. `secret/ci/deploy`).
    case vaultKV(path: String, field: String)
    /// `vault-dynamic:PATH[#FIELD]` — a dynamic secret with a lease (e.g. `database/creds/ci`);
    /// without a field the whole response `data` object is delivered as JSON.
    case vaultDynamic(path: String, field: String?)
}

/// How a secret reaches the job.
public enum SecretDelivery: String, Hashable, Sendable {
    /// `/run/secrets/NAME`, mode 0400, owned by the job's uid, on a tmpfs inside the sandbox.
    case file
    /// An environment variable — only when the profile allows it, with a warning.
    case env
}

/// One `secrets:` entry of a job.
public struct SecretRequest: Hashable, Sendable {
    /// The name the job sees (`/run/secrets/<name>`, or the variable name for `env`).
    public var name: String
    public var source: SecretSource
    /// Requested lifetime in seconds; nil means "the job's timeout plus a small grace".
    public var ttl: Double?
    public var delivery: SecretDelivery

    public init(name: String, source: SecretSource, ttl: Double? = nil, delivery: SecretDelivery = .file) {
        self.name = name
        self.source = source
        self.ttl = ttl
        self.delivery = delivery
    }
}

/// A lease: something issued for one job that must be revoked when the job ends.
public struct Lease: Hashable, Sendable, Codable {
    /// The broker that issued it (`embedded`, `openbao`), so a journal replay finds the revoker.
    public var broker: String
    /// The broker's id for it (an OpenBao lease id, a token accessor, an embedded lease id).
    public var id: String
    /// What kind of thing `id` names (`lease`, `token-accessor`, `policy`, `embedded`).
    public var kind: String
    public var jobID: String
    /// The secret's name and where it came from (never its value), for the access record.
    public var secretName: String
    public var source: String
    public var issuedAt: Date
    public var expiresAt: Date

    public init(
        broker: String, id: String, kind: String, jobID: String, secretName: String, source: String,
        issuedAt: Date, expiresAt: Date
    ) {
        self.broker = broker
        self.id = id
        self.kind = kind
        self.jobID = jobID
        self.secretName = secretName
        self.source = source
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }
}

/// A secret issued for a job: its value (zeroed when released) and the leases to revoke.
public struct IssuedSecret: Sendable {
    public var request: SecretRequest
    public var value: SecretValue
    public var leases: [Lease]

    public init(request: SecretRequest, value: SecretValue, leases: [Lease]) {
        self.request = request
        self.value = value
        self.leases = leases
    }
}

/// A secret broker: issues a job's secrets and revokes them.
///
/// `issue` must be all-or-nothing: when it throws, nothing it issued may stay valid (it revokes
/// what it had issued before throwing). `revoke` must be idempotent and safe to call again after
/// a crash (from the lease journal), and must treat "already gone" as success.
public protocol SecretBroker: Sendable {
    /// The broker's name recorded in leases (`embedded`, `openbao`).
    var name: String { get }
    /// Issue `requests` for job `jobID`, valid for at most `ttl` seconds.
    /// `record` is called with every lease as soon as it exists (before the next is issued), so
    /// the journal holds it even if the runner dies mid-issue.
    func issue(jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void) throws
        -> [IssuedSecret]
    /// Revoke one lease.
    func revoke(_ lease: Lease) throws
}

import Foundation

/// How the runner authenticates to OpenBao, and the limits it applies to what it issues.
public struct OpenBaoConfig: Sendable {
    /// How the runner logs in. The resulting token is the *runner's*; jobs never see it.
    public enum Auth: Sendable {
        /// AppRole login (`auth/<mount>/login` with `role_id`, `secret_id`).
        case appRole(roleID: String, secretID: String, mount: String = "approle")
        /// JWT/OIDC login (`auth/<mount>/login` with `role`, `jwt`), e.g. a CI platform's ID token.
        case jwt(role: String, jwt: String, mount: String = "jwt")
        /// A token given as is (no login; never refreshed).
        case token(String)
    }

    /// `http(s)://host:port` of the server.
    public var address: String
    public var auth: Auth
    /// KV v2 mounts. A `vault:` path starting with one of them (`secret/ci/deploy`) is read from
    /// that mount; any other path's first segment is taken as its mount.
    public var kvMounts: [String]
    /// The token role used to create job tokens (`auth/token/create/<role>`): a non-root runner
    /// may only give a child token policies it holds itself, unless a role allows them
    /// (`allowed_policies_glob="airlock-job-*"`). nil: plain `auth/token/create` (root tokens).
    public var tokenRole: String?
    /// The longest lifetime a job may ask for, in seconds; longer requests are refused before
    /// anything is issued.
    public var maxTTL: Double
    /// Added to a job token's TTL so the job's last reads do not race its expiry, in seconds.
    public var grace: Double
    /// Job-token uses beyond the number of reads (`num_uses = reads + margin`).
    public var useMargin: Int
    /// Prefix of the per-job ACL policy (`<prefix><jobID>`).
    public var policyPrefix: String

    public init(
        address: String, auth: Auth, kvMounts: [String] = ["secret"], tokenRole: String? = "airlock-job",
        maxTTL: Double = 24 * 3600, grace: Double = 30, useMargin: Int = 2, policyPrefix: String = "airlock-job-"
    ) {
        self.address = address
        self.auth = auth
        self.kvMounts = kvMounts
        self.tokenRole = tokenRole
        self.maxTTL = maxTTL
        self.grace = grace
        self.useMargin = useMargin
        self.policyPrefix = policyPrefix
    }
}

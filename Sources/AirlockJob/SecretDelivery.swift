import AirlockCore
import AirlockProfile
import AirlockSecrets
import Foundation

/// Where a job's secrets come from and where their leases are recorded.
public struct SecretsContext: Sendable {
    public var broker: any SecretBroker
    public var journal: LeaseJournal
    public var access: SecretAccessLog
    /// The job's id in leases and policies; random when nil.
    public var jobID: String?

    public init(broker: any SecretBroker, journal: LeaseJournal, access: SecretAccessLog, jobID: String? = nil) {
        self.broker = broker
        self.journal = journal
        self.access = access
        self.jobID = jobID
    }
}

/// Stage: the job's `secrets:`. Checked against the profile before anything is issued; issued
/// once for the whole job; handed to every step (files at /run/secrets/NAME, or environment
/// variables where the profile allows it); masked in the log; revoked when the body returns or
/// throws, however the job ends.
public struct SecretDelivery {
    /// What the steps get.
    public struct Delivered {
        public var files: [(name: String, contents: String)] = []
        public var env: [(key: String, value: String)] = []
        /// Every value to hide from the log and from output names (issued secrets and the
        /// coordinator's masked variables).
        public var hidden: [SecretValue] = []

        /// One masker per stream (each sees its stream's bytes in order, across chunks); nil
        /// when there is nothing to hide.
        public var makeMasker: (() -> OutputFilter)? {
            let hidden = self.hidden
            return hidden.isEmpty ? nil : { SecretMasker(secrets: hidden) }
        }
    }

    let requests: [SecretRequest]
    let context: SecretsContext?
    let mask: [SecretValue]
    let jobFile: String

    /// Parse and check the job's secrets (throws before anything is issued).
    public init(job: Job, profile: Profile, context: SecretsContext?, mask: [SecretValue]) throws {
        jobFile = job.sourceFile ?? "<job>"
        requests = try job.secrets.map { try SecretRequest(entry: $0) }
        self.context = context
        self.mask = mask
        if let envSecret = requests.first(where: { $0.delivery == .env }), !profile.allowSecretEnv {
            throw AirlockError(
                .secretEnvNotAllowed,
                "\(jobFile): secret '\(envSecret.name)' asks for delivery: env, which profile '\(profile.name)' does not allow",
                hint:
                    "use the default file delivery (/run/secrets/\(envSecret.name)), or a profile with `secrets: {allowEnv: true}`"
            )
        }
    }

    /// Issue the secrets (leases for `ttl` seconds), run `body` with them, revoke them.
    public func withSecrets<R>(ttl: Double, _ body: (Delivered) throws -> R) throws -> R {
        if requests.isEmpty { return try body(Delivered(hidden: mask)) }
        guard let context else {
            throw AirlockError(
                .secretNoBroker, "\(jobFile): the job declares secrets but no secret broker is configured",
                hint:
                    "`airlock run` uses the embedded store (`airlock secrets put NAME`) and OpenBao when AIRLOCK_VAULT_ADDR is set"
            )
        }
        warnAboutEnvDelivery()
        return try SecretScope.withSecrets(
            broker: context.broker, journal: context.journal, access: context.access,
            jobID: context.jobID ?? UUID().uuidString.lowercased(), requests: requests, ttl: ttl
        ) { issued in try body(Self.deliver(issued, mask: mask)) }
    }

    /// Issued values as the steps take them: UTF-8 text without NUL bytes.
    static func deliver(_ issued: [IssuedSecret], mask: [SecretValue]) throws -> Delivered {
        var d = Delivered(hidden: issued.map(\.value) + mask)
        for s in issued {
            let text = try s.value.withBytes { bytes -> String in
                guard !bytes.contains(0), let t = String(bytes: bytes, encoding: .utf8) else {
                    throw AirlockError(
                        .secretBinary, "secret '\(s.request.name)' is not UTF-8 text without NUL bytes",
                        hint: "store binary secrets base64-encoded and decode them in the job")
                }
                return t
            }
            if s.request.delivery == .env {
                d.env.append((s.request.name, text))
            } else {
                d.files.append((s.request.name, text))
            }
        }
        return d
    }

    private func warnAboutEnvDelivery() {
        for r in requests where r.delivery == .env {
            FileHandle.standardError.write(
                Data(
                    "airlock: warning: secret '\(r.name)' is delivered as an environment variable; child processes inherit it\n"
                        .utf8))
        }
    }
}

extension SecretMasker: OutputFilter {}

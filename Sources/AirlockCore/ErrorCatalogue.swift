/// Every error code Airlock reports, in one place. A new failure gets a code here (in its
/// area's namespace) with a line saying what it means; `all` lists them for tests and docs.
extension AirlockError.Code {
    // ── cli, file, host, airlock ──────────────────────────────────────────────
    /// Bad input from the person at the keyboard (a flag, an argument): exit status 2.
    public static let usage = Self("cli.usage")
    /// A job, profile, policy or config file that does not parse or validate.
    public static let invalidFile = Self("file.invalid")
    /// A file or directory that does not exist or cannot be read.
    public static let missingFile = Self("file.missing")
    /// The host lacks a kernel feature or permission Airlock needs.
    public static let hostUnsupported = Self("host.unsupported")
    /// An internal invariant failed; a bug in Airlock.
    public static let internalError = Self("airlock.internal")
    /// A private state file or directory could not be created, read or written.
    public static let privateFile = Self("state.private-file")

    // ── sandbox ───────────────────────────────────────────────────────────────
    /// The sandbox could not be set up (cgroup, workspace, helper, a setup stage).
    public static let sandboxSetup = Self("sandbox.setup")
    /// The sandbox was set up but its command could not be executed: exit status 127.
    public static let sandboxExec = Self("sandbox.exec")

    // ── job ───────────────────────────────────────────────────────────────────
    /// An output pattern that matched nothing.
    public static let outputMissing = Self("job.output-missing")
    /// An output that would take a name the runner writes (the log, provenance, …).
    public static let outputReserved = Self("job.output-reserved")
    /// An output that is, or goes through, a link out of the workspace.
    public static let outputEscape = Self("job.output-escape")
    /// An output that could not be copied.
    public static let outputCopy = Self("job.output-copy")
    /// An output nested deeper than the copier's depth limit.
    public static let outputTooDeep = Self("job.output-too-deep")
    /// Outputs larger than the workspace limit.
    public static let outputTooLarge = Self("job.output-too-large")
    /// An output name with a control character.
    public static let outputName = Self("job.output-name")
    /// An output name that contains a secret's value.
    public static let outputSecret = Self("job.output-secret")
    /// The job's time ran out outside its steps (while collecting outputs).
    public static let jobTimeout = Self("job.timeout")

    // ── secret ────────────────────────────────────────────────────────────────
    /// A secret name that the embedded store (or a broker) does not know.
    public static let secretUnknown = Self("secret.unknown")
    /// A sealed secret file that fails authentication: corrupted, tampered with or swapped.
    public static let secretTampered = Self("secret.tampered")
    /// The embedded store's key or directory is missing, unreadable or has unsafe permissions.
    public static let secretStore = Self("secret.store")
    /// A broker refused or failed to issue a secret.
    public static let secretIssue = Self("secret.issue")
    /// One or more leases could not be revoked; they stay in the lease journal for a replay.
    public static let secretRevoke = Self("secret.revoke")
    /// The lease journal or the access record could not be written or read.
    public static let secretJournal = Self("secret.journal")
    /// A secret asks for environment delivery, which the profile does not allow.
    public static let secretEnvNotAllowed = Self("secret.env-not-allowed")
    /// The job declares secrets but no broker is configured.
    public static let secretNoBroker = Self("secret.no-broker")
    /// A secret value that is not UTF-8 text without NUL bytes.
    public static let secretBinary = Self("secret.binary")

    // ── vault (OpenBao) ───────────────────────────────────────────────────────
    /// The OpenBao server could not be reached.
    public static let vaultUnreachable = Self("vault.unreachable")
    /// The OpenBao server is sealed.
    public static let vaultSealed = Self("vault.sealed")
    /// The runner's credentials were refused.
    public static let vaultAuth = Self("vault.auth")
    /// A secret path the token may not read, or that does not exist.
    public static let vaultDenied = Self("vault.denied")
    /// A secret, or a field of it, that does not exist.
    public static let vaultNotFound = Self("vault.not-found")
    /// A request the broker refuses before issuing anything (TTL too long, bad path).
    public static let vaultRequest = Self("vault.request")
    /// Any other unexpected answer from the server.
    public static let vaultServer = Self("vault.server")

    // ── key, dsse (provenance) ────────────────────────────────────────────────
    /// A key file or PEM text that is not a usable Ed25519 / ECDSA P-256 key.
    public static let invalidKey = Self("key.invalid")
    /// A public key where a private one is expected, or the other way round.
    public static let wrongKeyType = Self("key.wrong-type")
    /// Generating a key would overwrite an existing key.
    public static let keyExists = Self("key.exists")
    /// A signer failed to produce a signature.
    public static let signingFailed = Self("key.signing-failed")
    /// Text that is not a DSSE envelope.
    public static let invalidEnvelope = Self("dsse.invalid-envelope")

    // ── gitlab ────────────────────────────────────────────────────────────────
    /// The coordinator refused the runner's token.
    public static let gitlabForbidden = Self("gitlab.forbidden")
    /// The coordinator could not be reached after every retry.
    public static let gitlabUnreachable = Self("gitlab.unreachable")
    /// The coordinator answered something the runner cannot understand.
    public static let gitlabMalformed = Self("gitlab.malformed")
    /// The coordinator answered an HTTP status the call does not expect.
    public static let gitlabHTTP = Self("gitlab.http")
    /// A job's artifacts archive could not be built.
    public static let gitlabArtifacts = Self("gitlab.artifacts")
    /// A job's sources could not be fetched.
    public static let gitlabSources = Self("gitlab.sources")

    /// The whole catalogue.
    public static let all: [Self] = [
        usage, invalidFile, missingFile, hostUnsupported, internalError, privateFile, sandboxSetup, sandboxExec,
        outputMissing, outputReserved, outputEscape, outputCopy, outputTooDeep, outputTooLarge, outputName,
        outputSecret, jobTimeout, secretUnknown, secretTampered, secretStore, secretIssue, secretRevoke,
        secretJournal, secretEnvNotAllowed, secretNoBroker, secretBinary, vaultUnreachable, vaultSealed, vaultAuth,
        vaultDenied, vaultNotFound, vaultRequest, vaultServer, invalidKey, wrongKeyType, keyExists, signingFailed,
        invalidEnvelope, gitlabForbidden, gitlabUnreachable, gitlabMalformed, gitlabHTTP, gitlabArtifacts,
        gitlabSources,
    ]

    /// The `airlock` command's exit status for an error with this code: 127 when the sandbox's
    /// command could not be executed (as a shell does), 2 for everything else (nothing ran).
    public var exitStatus: Int32 { self == .sandboxExec ? 127 : 2 }
}

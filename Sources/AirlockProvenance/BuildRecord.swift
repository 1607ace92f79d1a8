import AirlockCore
import Foundation

/// Everything the runner knows about one finished job, from which `ProvenanceBuilder` writes
/// the in-toto statement. Filled by the runner; holds secret *names* only, never values.
public struct BuildRecord: Sendable {
    /// Where the job's source came from, when it came from version control.
    public struct SourceInfo: Hashable, Sendable {
        /// The repository URL, e.g. `https://github.com/acme/app`.
        public var repository: String
        /// The ref that was checked out, e.g. `refs/heads/main`.
        public var ref: String?
        /// The full commit id (hex).
        public var commit: String?

        /// A source checkout; `ref` and `commit` when known.
        public init(repository: String, ref: String? = nil, commit: String? = nil) {
            self.repository = repository
            self.ref = ref
            self.commit = commit
        }
    }

    /// One part of the build environment (a root filesystem, a compiler tree, …).
    public struct ToolchainComponent: Sendable {
        /// A short name, e.g. `rootfs` or `swift`.
        public var name: String
        /// Where it came from, e.g. `file:///usr` or an image reference.
        public var uri: String?
        /// Digests by algorithm name (`sha256` → hex).
        public var digest: [String: String]
        /// Its version, when known.
        public var version: String?
        /// Packages it contains, e.g. from the distribution's package database.
        public var packages: [(name: String, version: String)]

        /// A component; `digest` maps algorithm names to hex digests.
        public init(
            name: String, uri: String? = nil, digest: [String: String], version: String? = nil,
            packages: [(name: String, version: String)] = []
        ) {
            self.name = name
            self.uri = uri
            self.digest = digest
            self.version = version
            self.packages = packages
        }
    }

    /// The job's name.
    public var jobName: String
    /// The job as submitted (secrets appear only as references by name).
    public var job: JSONValue
    /// The source checkout, if any.
    public var source: SourceInfo?
    /// The sandbox profile's name.
    public var profileName: String
    /// SHA-256 (hex) of the resolved profile.
    public var profileDigest: String
    /// SHA-256 (hex) of the compiled seccomp filter.
    public var seccompDigest: String
    /// The resource limits applied.
    public var limits: JSONValue
    /// Airlock's version.
    public var runnerVersion: String
    /// Input files given to the job.
    public var inputs: [FileDigest]
    /// The build environment's components.
    public var toolchain: [ToolchainComponent]
    /// The builder's identity (a URI naming this Airlock installation or service).
    public var builderID: String
    /// A unique id for this run.
    public var invocationID: String
    /// When the job started.
    public var startedOn: Date
    /// When the job finished.
    public var finishedOn: Date
    /// The job's log file.
    public var log: FileDigest
    /// The job's exit status (non-zero is a result, and is still attested).
    public var exitCode: Int32
    /// CPU time, peak memory and the like.
    public var resourceUsage: JSONValue
    /// The SPDX SBOM written for the outputs, if any.
    public var sbom: FileDigest?
    /// The output artifacts — the statement's subjects.
    public var outputs: [FileDigest]
    /// Names of the secrets made available to the job. Never their values.
    public var secretNames: [String]

    /// A record; optional parts default to absent or empty.
    public init(
        jobName: String, job: JSONValue, source: SourceInfo? = nil, profileName: String, profileDigest: String,
        seccompDigest: String, limits: JSONValue = .object([:]), runnerVersion: String,
        inputs: [FileDigest] = [], toolchain: [ToolchainComponent] = [], builderID: String, invocationID: String,
        startedOn: Date, finishedOn: Date, log: FileDigest, exitCode: Int32,
        resourceUsage: JSONValue = .object([:]), sbom: FileDigest? = nil, outputs: [FileDigest],
        secretNames: [String] = []
    ) {
        self.jobName = jobName
        self.job = job
        self.source = source
        self.profileName = profileName
        self.profileDigest = profileDigest
        self.seccompDigest = seccompDigest
        self.limits = limits
        self.runnerVersion = runnerVersion
        self.inputs = inputs
        self.toolchain = toolchain
        self.builderID = builderID
        self.invocationID = invocationID
        self.startedOn = startedOn
        self.finishedOn = finishedOn
        self.log = log
        self.exitCode = exitCode
        self.resourceUsage = resourceUsage
        self.sbom = sbom
        self.outputs = outputs
        self.secretNames = secretNames
    }
}

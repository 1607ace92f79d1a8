/// What this runner tells GitLab about itself, in every job request and registration
/// (the `info` object of the runner API).
///
/// Advertise only what Airlock really does: GitLab uses `features` to decide which jobs it may
/// hand out and how to talk to the runner.
public struct GitLabRunnerInfo: Sendable, Equatable {
    public var name: String
    public var version: String
    public var revision: String
    /// `linux`.
    public var platform: String
    /// `amd64` or `arm64`, as GitLab (Go) names architectures.
    public var architecture: String
    /// `airlock`.
    public var executor: String
    /// `sh`.
    public var shell: String
    /// Feature flags, by the names GitLab's runner API uses (`variables`, `trace_checksum`…).
    public var features: [String: Bool]

    public init(
        name: String = "airlock", version: String, revision: String = "", platform: String = "linux",
        architecture: String = GitLabRunnerInfo.hostArchitecture, executor: String = "airlock",
        shell: String = "sh", features: [String: Bool]
    ) {
        self.name = name
        self.version = version
        self.revision = revision
        self.platform = platform
        self.architecture = architecture
        self.executor = executor
        self.shell = shell
        self.features = features
    }

    /// The architecture this binary was built for, in Go's names.
    public static var hostArchitecture: String {
        #if arch(arm64)
            return "arm64"
        #elseif arch(x86_64)
            return "amd64"
        #else
            return "unknown"
        #endif
    }

    /// The features the protocol layer implements itself: trace checksums, sizes and resets,
    /// masking, cancellation through `Job-Status`, exit codes, artifact uploads, and the two-phase
    /// job commit (a job handed out stays `pending` until `GitLabJobSession.markRunning()`; the
    /// agent must call it, or turn the feature off).
    ///
    /// Deliberately absent or false: `image` and `services` (no container images), `cache`,
    /// `shared`, `session`/`terminal`, `proxy`, `vault_secrets`, `upload_raw_artifacts`,
    /// `artifacts_exclude`, `refspecs`, `multi_build_steps`. The agent may turn on what it
    /// implements on top of this layer (for example `refspecs` when it honours
    /// `git_info.refspecs`).
    public static let protocolFeatures: [String: Bool] = [
        "variables": true,
        "raw_variables": true,
        "masking": true,
        "artifacts": true,
        "upload_multiple_artifacts": true,
        "trace_checksum": true,
        "trace_size": true,
        "trace_reset": true,
        "cancelable": true,
        "cancel_gracefully": true,
        "return_exit_code": true,
        "two_phase_job_commit": true,
        "image": false,
        "services": false,
        "cache": false,
        "shared": false,
        "session": false,
        "terminal": false,
        "proxy": false,
        "vault_secrets": false,
        "upload_raw_artifacts": false,
        "artifacts_exclude": false,
        "refspecs": false,
        "multi_build_steps": false,
    ]

    /// A conservative, honest description of an Airlock runner of `version`.
    public static func airlockDefault(version: String, revision: String = "") -> GitLabRunnerInfo {
        GitLabRunnerInfo(version: version, revision: revision, features: protocolFeatures)
    }

    /// The JSON object sent as `info`.
    var json: [String: Any] {
        [
            "name": name, "version": version, "revision": revision, "platform": platform,
            "architecture": architecture, "executor": executor, "shell": shell, "features": features,
        ]
    }
}

/// A job as GitLab hands it out in answer to `POST /api/v4/jobs/request` (HTTP 201).
///
/// Decoding is tolerant of absence, strict on types: keys GitLab may add later are ignored and
/// everything but `id` and `token` may be missing or null (a default applies), but a value of
/// the wrong type fails the decoding.
public struct GitLabJobPayload: Sendable, Decodable {
    public var id: Int
    /// The job token: authenticates trace, update and artifact calls (`JOB-TOKEN`).
    public var token: String
    public var allowGitFetch: Bool
    public var jobInfo: JobInfo
    public var gitInfo: GitInfo
    public var runnerInfo: RunnerInfo
    public var variables: [JobVariable]
    public var steps: [JobStep]
    public var image: Image?
    public var services: [Image]
    public var artifacts: [ArtifactSpec]
    public var dependencies: [Dependency]
    public var features: Features

    /// `job_info`.
    public struct JobInfo: Sendable, Decodable {
        public var name: String
        public var stage: String
        public var projectId: Int
        public var projectName: String

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            name = try c.value("name", "")
            stage = try c.value("stage", "")
            projectId = try c.value("project_id", 0)
            projectName = try c.value("project_name", "")
        }
        init() { (name, stage, projectId, projectName) = ("", "", 0, "") }
    }

    /// `git_info`.
    public struct GitInfo: Sendable, Decodable {
        public var repoURL: String
        public var ref: String
        public var sha: String
        public var beforeSHA: String
        /// `branch` or `tag`.
        public var refType: String
        public var refspecs: [String]
        /// Shallow clone depth; 0 = full clone.
        public var depth: Int

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            repoURL = try c.value("repo_url", "")
            ref = try c.value("ref", "")
            sha = try c.value("sha", "")
            beforeSHA = try c.value("before_sha", "")
            refType = try c.value("ref_type", "")
            refspecs = try c.value("refspecs", [])
            depth = try c.value("depth", 0)
        }
        init() { (repoURL, ref, sha, beforeSHA, refType, refspecs, depth) = ("", "", "", "", "", [], 0) }
    }

    /// `runner_info`.
    public struct RunnerInfo: Sendable, Decodable {
        /// The job's timeout in seconds.
        public var timeout: Int

        public init(from decoder: any Decoder) throws {
            timeout = try decoder.container(keyedBy: Keys.self).value("timeout", 3600)
        }
        init() { timeout = 3600 }
    }

    /// `image` or one of `services`. Airlock does not run images; the agent refuses such jobs.
    public struct Image: Sendable, Decodable {
        public var name: String
        public var alias: String
        public var entrypoint: [String]
        public var command: [String]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            name = try c.value("name", "")
            alias = try c.value("alias", "")
            entrypoint = try c.value("entrypoint", [])
            command = try c.value("command", [])
        }
    }

    /// One of `dependencies`: a previous job whose artifacts this one needs.
    public struct Dependency: Sendable, Decodable {
        public var id: Int
        public var name: String
        public var token: String
        public var artifactsFilename: String?
        public var artifactsSize: Int?

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            id = try c.value("id", 0)
            name = try c.value("name", "")
            token = try c.value("token", "")
            let file = try? c.nestedContainer(keyedBy: Keys.self, forKey: Keys("artifacts_file"))
            artifactsFilename = try file?.value("filename", String?.none) ?? nil
            artifactsSize = try file?.value("size", Int?.none) ?? nil
        }
    }

    /// `features`: what this GitLab tells the runner.
    public struct Features: Sendable, Decodable {
        public var traceSections: Bool
        /// The failure reasons this GitLab accepts; empty when it does not say.
        public var failureReasons: [String]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            traceSections = try c.value("trace_sections", false)
            failureReasons = try c.value("failure_reasons", [])
        }
        init() { (traceSections, failureReasons) = (false, []) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(Int.self, forKey: Keys("id"))
        token = try c.decode(String.self, forKey: Keys("token"))
        allowGitFetch = try c.value("allow_git_fetch", false)
        jobInfo = try c.value("job_info", JobInfo())
        gitInfo = try c.value("git_info", GitInfo())
        runnerInfo = try c.value("runner_info", RunnerInfo())
        variables = try c.value("variables", [])
        steps = try c.value("steps", [])
        image = try c.value("image", Image?.none)
        services = try c.value("services", [])
        artifacts = try c.value("artifacts", [])
        dependencies = try c.value("dependencies", [])
        features = try c.value("features", Features())
    }

    /// The values of the variables marked `masked`.
    public var maskedValues: [String] {
        variables.filter(\.masked).map(\.value).filter { !$0.isEmpty }
    }
}

/// One of a job's `variables`.
public struct JobVariable: Sendable, Decodable, Equatable {
    public var key: String
    public var value: String
    public var `public`: Bool
    /// Masked in the job log.
    public var masked: Bool
    /// To be written to a file whose path becomes the variable's value.
    public var file: Bool
    /// Not to be expanded (`$OTHER` stays literal).
    public var raw: Bool

    public init(
        key: String, value: String, public: Bool = true, masked: Bool = false, file: Bool = false,
        raw: Bool = false
    ) {
        (self.key, self.value, self.public, self.masked, self.file, self.raw) = (
            key, value, `public`, masked, file, raw
        )
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        key = try c.decode(String.self, forKey: Keys("key"))
        value = try c.value("value", "")
        `public` = try c.value("public", false)
        masked = try c.value("masked", false)
        file = try c.value("file", false)
        raw = try c.value("raw", false)
    }
}

/// One of a job's `steps`: `script`, `after_script`, or `release`.
public struct JobStep: Sendable, Decodable {
    public var name: String
    public var script: [String]
    /// Seconds.
    public var timeout: Int
    /// `on_success`, `on_failure` or `always`.
    public var when: String
    public var allowFailure: Bool

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        name = try c.value("name", "")
        script = try c.value("script", [])
        timeout = try c.value("timeout", 0)
        when = try c.value("when", "on_success")
        allowFailure = try c.value("allow_failure", false)
    }
}

/// One of a job's `artifacts` entries.
public struct ArtifactSpec: Sendable, Decodable {
    public var name: String
    public var untracked: Bool
    public var paths: [String]
    public var exclude: [String]
    /// `on_success`, `on_failure` or `always`.
    public var when: String
    /// `archive`, `junit`, …
    public var artifactType: String
    /// `zip`, `gzip`, `raw`.
    public var format: String
    /// `30 days`, or empty for GitLab's default.
    public var expireIn: String

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        name = try c.value("name", "")
        untracked = try c.value("untracked", false)
        paths = try c.value("paths", [])
        exclude = try c.value("exclude", [])
        when = try c.value("when", "on_success")
        artifactType = try c.value("artifact_type", "archive")
        format = try c.value("artifact_format", "zip")
        expireIn = try c.value("expire_in", "")
    }
}

/// String-named coding keys (GitLab's snake_case names, verbatim).
struct Keys: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where K == Keys {
    /// The value under `key`, or `fallback` when absent or null. A value of the wrong type
    /// throws: a job whose `steps` are not a list must not run as a job without steps.
    func value<T: Decodable>(_ key: String, _ fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: Keys(key)) ?? fallback
    }
}

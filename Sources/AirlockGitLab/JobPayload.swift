/// A job as GitLab hands it out in answer to `POST /api/v4/jobs/request` (HTTP 201).
///
/// Decoding is tolerant: keys GitLab may add later are ignored, and everything but `id` and
/// `token` has a default, so an older or newer GitLab still decodes.
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
            name = c.value("name", "")
            stage = c.value("stage", "")
            projectId = c.value("project_id", 0)
            projectName = c.value("project_name", "")
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
            repoURL = c.value("repo_url", "")
            ref = c.value("ref", "")
            sha = c.value("sha", "")
            beforeSHA = c.value("before_sha", "")
            refType = c.value("ref_type", "")
            refspecs = c.value("refspecs", [])
            depth = c.value("depth", 0)
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
            name = c.value("name", "")
            alias = c.value("alias", "")
            entrypoint = c.value("entrypoint", [])
            command = c.value("command", [])
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
            id = c.value("id", 0)
            name = c.value("name", "")
            token = c.value("token", "")
            let file = try? c.nestedContainer(keyedBy: Keys.self, forKey: Keys("artifacts_file"))
            artifactsFilename = file.flatMap { $0.value("filename", String?.none) }
            artifactsSize = file.flatMap { $0.value("size", Int?.none) }
        }
    }

    /// `features`: what this GitLab tells the runner.
    public struct Features: Sendable, Decodable {
        public var traceSections: Bool
        /// The failure reasons this GitLab accepts; empty when it does not say.
        public var failureReasons: [String]

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            traceSections = c.value("trace_sections", false)
            failureReasons = c.value("failure_reasons", [])
        }
        init() { (traceSections, failureReasons) = (false, []) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(Int.self, forKey: Keys("id"))
        token = try c.decode(String.self, forKey: Keys("token"))
        allowGitFetch = c.value("allow_git_fetch", false)
        jobInfo = c.value("job_info", JobInfo())
        gitInfo = c.value("git_info", GitInfo())
        runnerInfo = c.value("runner_info", RunnerInfo())
        variables = c.value("variables", [])
        steps = c.value("steps", [])
        image = c.value("image", Image?.none)
        services = c.value("services", [])
        artifacts = c.value("artifacts", [])
        dependencies = c.value("dependencies", [])
        features = c.value("features", Features())
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
        value = c.value("value", "")
        `public` = c.value("public", false)
        masked = c.value("masked", false)
        file = c.value("file", false)
        raw = c.value("raw", false)
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
        name = c.value("name", "")
        script = c.value("script", [])
        timeout = c.value("timeout", 0)
        when = c.value("when", "on_success")
        allowFailure = c.value("allow_failure", false)
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
        name = c.value("name", "")
        untracked = c.value("untracked", false)
        paths = c.value("paths", [])
        exclude = c.value("exclude", [])
        when = c.value("when", "on_success")
        artifactType = c.value("artifact_type", "archive")
        format = c.value("artifact_format", "zip")
        expireIn = c.value("expire_in", "")
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
    /// The value under `key`, or `fallback` when absent, null or of another type.
    func value<T: Decodable>(_ key: String, _ fallback: T) -> T {
        (try? decodeIfPresent(T.self, forKey: Keys(key))) ?? fallback
    }
}

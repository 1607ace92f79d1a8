import Foundation

/// Builds job JSON as GitLab's `POST /api/v4/jobs/request` returns it (201).
public struct JobPayloadBuilder: Sendable {
    /// A job variable as GitLab sends it.
    public struct Variable: Sendable {
        public var key, value: String
        public var isPublic, masked, file, raw: Bool
        public init(
            _ key: String, _ value: String, public isPublic: Bool = true, masked: Bool = false,
            file: Bool = false, raw: Bool = false
        ) {
            (self.key, self.value, self.isPublic, self.masked, self.file, self.raw) = (
                key, value, isPublic, masked, file, raw
            )
        }
    }

    public var id: Int
    public var token: String
    public var name = "build"
    public var stage = "test"
    public var projectID = 42
    public var projectName = "airlock-demo"
    public var repoURL = "https://gitlab-ci-token:[MASKED]@gitlab.example.com/group/airlock-demo.git"
    public var ref = "main"
    public var sha = "2b4c1d4e5f60718293a4b5c6d7e8f90112233445"
    public var beforeSHA = "0000000000000000000000000000000000000000"
    public var refspecs = ["+refs/pipelines/7:refs/pipelines/7", "+refs/heads/main:refs/remotes/origin/main"]
    public var depth = 20
    public var timeout = 3600
    public var variables: [Variable] = []
    public var script: [String]
    public var afterScript: [String] = []
    /// `artifacts:paths`; empty = no artifacts entry.
    public var artifactPaths: [String] = []
    public var artifactsExpireIn = "1 week"
    public var image: String?
    public var services: [String] = []
    public var failureReasons = [
        "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure",
        "runner_system_failure", "missing_dependency_failure", "runner_unsupported",
        "job_execution_timeout", "archived_failure", "unmet_prerequisites", "data_integrity_failure",
    ]

    private static let counter = Counter()

    public init(id: Int? = nil, script: [String] = ["echo hello"]) {
        let id = id ?? Self.counter.next()
        self.id = id
        self.token = "glcbt-64_" + String(format: "%020d", id) + "xYz"
        self.script = script
    }

    /// The predefined variables GitLab always sends, then `variables`.
    public var allVariables: [Variable] {
        [
            Variable("CI_JOB_ID", String(id)),
            Variable("CI_JOB_TOKEN", token, public: false, masked: true),
            Variable("CI_PROJECT_NAME", projectName),
            Variable("CI_COMMIT_SHA", sha),
            Variable("CI_SERVER_URL", "https://gitlab.example.com"),
        ] + variables
    }

    /// The JSON object.
    public func object() -> [String: Any] {
        var steps: [[String: Any]] = [
            ["name": "script", "script": script, "timeout": timeout, "when": "on_success", "allow_failure": false]
        ]
        if !afterScript.isEmpty {
            steps.append([
                "name": "after_script", "script": afterScript, "timeout": 300, "when": "always",
                "allow_failure": true,
            ])
        }
        var object: [String: Any] = [
            "id": id, "token": token, "allow_git_fetch": true,
            "job_info": [
                "id": id, "name": name, "stage": stage, "project_id": projectID, "project_name": projectName,
                "time_in_queue_seconds": 1.5,
            ],
            "git_info": [
                "repo_url": repoURL, "ref": ref, "sha": sha, "before_sha": beforeSHA, "ref_type": "branch",
                "refspecs": refspecs, "depth": depth, "repo_object_format": "sha1",
            ],
            "runner_info": ["timeout": timeout, "runner_session_url": NSNull()],
            "variables": allVariables.map {
                [
                    "key": $0.key, "value": $0.value, "public": $0.isPublic, "masked": $0.masked, "file": $0.file,
                    "raw": $0.raw,
                ]
            },
            "steps": steps,
            "services": services.map { ["name": $0, "alias": "", "entrypoint": [String](), "command": [String]()] },
            "artifacts": artifactPaths.isEmpty
                ? [[String: Any]]()
                : [
                    [
                        "name": "artifacts", "untracked": false, "paths": artifactPaths, "exclude": [String](),
                        "when": "on_success", "artifact_type": "archive", "artifact_format": "zip",
                        "expire_in": artifactsExpireIn,
                    ]
                ],
            "cache": [[String: Any]](),
            "credentials": [[String: Any]](),
            "dependencies": [[String: Any]](),
            "features": ["trace_sections": true, "failure_reasons": failureReasons],
        ]
        object["image"] =
            image.map { ["name": $0, "alias": "", "entrypoint": [String](), "ports": [Int]()] } ?? NSNull()
        return object
    }

    /// The JSON bytes.
    public func jsonBytes() -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object(), options: [.sortedKeys])) ?? Data())
    }
}

/// Unique job ids across tests in one process.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 1000
    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}

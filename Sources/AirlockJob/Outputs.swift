import AirlockCore
import AirlockOS
import AirlockSecrets

/// Stage: after every step succeeded, the declared outputs are copied out of the workspace
/// (`OutputCollector`: by descriptor, nothing followed, names checked) and hashed (SHA-256 and
/// SHA-1, for provenance and SPDX). A refused output fails the job and removes what was
/// collected, so a failed job leaves only its log.
public struct Outputs {
    /// What was collected: paths relative to the out dir, and their digests.
    public struct Collected: Sendable {
        public var paths: [String] = []
        public var digests: [FileHasher.Entry] = []
    }

    /// The cap on all outputs' data when the workspace has no size limit (rootless mode).
    static let limitWithoutWorkspaceLimit: UInt64 = 16 << 30

    public let job: Job
    /// Values no output name may contain (the job's secrets).
    public let forbidden: [SecretValue]
    /// The cap on all outputs' data (the workspace's size).
    public let byteLimit: UInt64?
    /// The job's deadline on the monotonic clock.
    public let deadline: Double?

    public init(job: Job, forbidden: [SecretValue], byteLimit: UInt64?, deadline: Double?) {
        self.job = job
        self.forbidden = forbidden
        self.byteLimit = byteLimit
        self.deadline = deadline
    }

    /// Out-dir names that belong to the runner: no output may take them.
    public static func reservedNames(_ job: Job) -> Set<String> {
        [
            job.name + ".log", job.name + ".intoto.jsonl", job.name + ".spdx.json", OutDirectory.marker,
            "result.json",
        ]
    }

    /// Collect from `workspace` into `outDir`. A refused output throws an `AirlockError` after
    /// the partial collection was removed (all but `keeping`).
    public func collect(workspace: String, to outDir: String, keeping: Set<String>) throws -> Collected {
        do {
            let collector = OutputCollector(
                reserved: Self.reservedNames(job), forbidden: forbidden,
                byteLimit: byteLimit ?? Self.limitWithoutWorkspaceLimit, deadline: deadline,
                jobFile: job.sourceFile ?? "<job>")
            let paths = try collector.collect(patterns: job.outputs, workspace: workspace, to: outDir)
            return Collected(paths: paths, digests: try FileHasher.hash(root: outDir, paths: paths, sha1: true))
        } catch let e as AirlockError {
            Self.removeCollected(from: outDir, keeping: keeping)
            throw e
        }
    }

    /// After a refused output: what was collected so far goes, so a failed job leaves no outputs.
    static func removeCollected(from outDir: String, keeping: Set<String>) {
        guard let dir = try? ConfinedDirectory.open(outDir), let names = try? dir.entries() else { return }
        for name in names where !keeping.contains(name) { try? dir.remove(name) }
    }
}

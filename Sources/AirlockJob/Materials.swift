import AirlockCore
import AirlockOS
import AirlockSandbox
import Foundation

/// Stage: the job's inputs, copied from the job file's directory into its workspace by
/// descriptor (never following a link out of that directory), then hashed as the job will see
/// them. Also settles `SOURCE_DATE_EPOCH`: the job's, else the newest input's mtime.
public struct Materials {
    /// What the stage produced.
    public struct Staged: Sendable {
        /// The inputs' digests in the workspace (paths relative to it), for provenance.
        public var inputDigests: [FileHasher.Entry]
        public var sourceDateEpoch: Int64
    }

    public let job: Job
    /// The job file, for messages (`<job>` when the job came from elsewhere).
    public let jobFile: String

    public init(job: Job) {
        self.job = job
        self.jobFile = job.sourceFile ?? "<job>"
    }

    /// The directory inputs are taken from: the job file's.
    var jobDir: String {
        ((job.sourceFile ?? FileManager.default.currentDirectoryPath + "/job.yaml") as NSString)
            .deletingLastPathComponent
    }

    /// Copy every input into `workspace` (owned by the sandbox's identity) and hash them.
    public func stage(into workspace: Workspace, identity: SandboxIdentity) throws -> Staged {
        let paths = try Self.inputPaths(job, jobFile: jobFile)
        var newest: Int64 = 0
        if !paths.isEmpty {
            let source: ConfinedDirectory
            do { source = try ConfinedDirectory.open(jobDir) } catch {
                throw AirlockError(
                    .missingFile, "\(jobFile): cannot open the job's directory \(jobDir): \(error)",
                    hint: "the job file's directory must be readable by the runner")
            }
            for (input, rel) in zip(job.inputs, paths) {
                do {
                    newest = max(newest, try workspace.add(rel, from: source, identity: identity))
                } catch let e as OSError {
                    throw Self.inputError(e, input: input, jobFile: jobFile, jobDir: jobDir)
                }
            }
        }
        if newest == 0, let f = job.sourceFile { newest = Self.newestMTime(f) }
        let digests = try FileHasher.hash(root: workspace.path, paths: paths)
        return Staged(inputDigests: digests, sourceDateEpoch: job.sourceDateEpoch ?? newest)
    }

    /// Each input's place in the workspace: its normalised relative path. Absolute paths and
    /// `..` are refused (the loader refuses them too; coordinator jobs are checked here).
    static func inputPaths(_ job: Job, jobFile: String) throws -> [String] {
        try job.inputs.enumerated().map { i, input in
            if PathSyntax.isAbsolute(input) {
                throw AirlockError(
                    .invalidFile,
                    "\(jobFile): field 'inputs[\(i)]' must be relative to the job's directory, not '\(input)'",
                    hint: "copy the file next to the job file and name it relatively")
            }
            if PathSyntax.hasParentReference(input) {
                throw AirlockError(
                    .invalidFile,
                    "\(jobFile): field 'inputs[\(i)]' must stay inside the job's directory; '\(input)' contains '..'",
                    hint: "inputs are taken from the job file's directory only")
            }
            let rel = PathSyntax.components(input).filter { $0 != "." }.joined(separator: "/")
            guard !rel.isEmpty else {
                throw AirlockError(
                    .invalidFile, "\(jobFile): field 'inputs[\(i)]' names the job's directory itself",
                    hint: "list the files or subdirectories the job needs")
            }
            return rel
        }
    }

    /// A failed input copy, in words: which input, what went wrong, how to fix it.
    static func inputError(_ e: OSError, input: String, jobFile: String, jobDir: String) -> AirlockError {
        switch e.errno {
        case ENOENT:
            return AirlockError(
                .missingFile, "\(jobFile): input '\(input)' does not exist (looked in \(jobDir))",
                hint: "fix the path in `inputs` (relative paths are relative to the job file)")
        case EXDEV, ELOOP:
            return AirlockError(
                .invalidFile,
                "\(jobFile): input '\(input)' resolves outside the job's directory \(jobDir); refusing to copy it",
                hint: "inputs must be files inside the job's directory (a symlink may point only within it)")
        case EEXIST:
            return AirlockError(
                .invalidFile, "\(jobFile): input '\(input)' overlaps an earlier input",
                hint: "list each file or directory once")
        default:
            return AirlockError(
                .sandboxSetup, "cannot copy input '\(input)' into the workspace: \(e)",
                hint: "check the input's permissions, and the workspace limit for its size")
        }
    }

    /// The newest mtime under `path` (the job file when there are no inputs).
    static func newestMTime(_ path: String) -> Int64 {
        var newest: Int64 = 0
        func visit(_ p: String) {
            var st = stat()
            guard lstat(p, &st) == 0 else { return }
            newest = max(newest, Int64(st.st_mtim.tv_sec))
            if (st.st_mode & S_IFMT) == S_IFDIR, let kids = try? FileManager.default.contentsOfDirectory(atPath: p) {
                for k in kids { visit(p + "/" + k) }
            }
        }
        visit(path)
        return newest
    }
}

import AirlockCore
import AirlockOS
import Foundation

extension JobRunner {
    /// The cap on all outputs' data when the workspace has no size limit (rootless mode).
    static let outputLimitWithoutWorkspaceLimit: UInt64 = 16 << 30

    /// Out-dir names that belong to the runner: no output may take them.
    static func reservedNames(_ job: Job) -> Set<String> {
        [
            job.name + ".log", job.name + ".intoto.jsonl", job.name + ".spdx.json", OutDirectory.marker,
            "result.json",
        ]
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

    /// After a refused output: what was collected so far goes, so a failed job leaves no outputs.
    static func removeCollected(from outDir: String, keeping: Set<String>) {
        guard let dir = try? ConfinedDirectory.open(outDir), let names = try? dir.entries() else { return }
        for name in names where !keeping.contains(name) { try? dir.remove(name) }
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
            return AirlockError(.sandboxSetup, "cannot copy input '\(input)' into the workspace: \(e)")
        }
    }
}

import AirlockCore
import AirlockGitLab
import Foundation

/// Turns a GitLab job payload into an Airlock job, or says why this runner refuses it.
///
/// - `steps`: `script` runs first (each command echoed as `$ command`, as GitLab Runner does);
///   `after_script` becomes a `when: always` step with its own timeout; other steps keep their
///   `when` (`on_success`, `on_failure`, `always`).
/// - `variables`: become the job's environment in order; values are expanded (`$VAR`, `${VAR}`)
///   against earlier variables unless `raw`; `file` variables are written to a file in the
///   workspace and the variable holds its path; `masked` values are hidden in the trace and in
///   the provenance. `CI_PROJECT_DIR` and `CI_BUILDS_DIR` point into the sandbox.
/// - `runner_info.timeout` is the job's timeout; `artifacts` paths (type `archive`) its outputs.
/// - `image`: accepted only when the agent config maps it to a profile; `services`: refused.
public struct GitLabJobMapper: Sendable {
    /// The mapped job plus what the agent needs beside it.
    public struct Mapped: Sendable {
        public var job: Job
        /// Masked variable values (for the log masker).
        public var maskValues: [String]
        /// `file` variables: name → contents, written to `.airlock-vars/NAME` in the sources.
        public var files: [(name: String, contents: String)]
        /// The artifact archive to upload, if any.
        public var artifact: ArtifactSpec?
        /// Lines for the trace (warnings about parts of the payload not honoured).
        public var notes: [String]
    }

    /// A job this runner will not run, with the reason for the trace.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var reason: FailureReason
        public var message: String
        public var description: String { message }
    }

    /// Job `image:` → profile name (from the agent config).
    public var images: [String: String]
    /// The profile for jobs without an image.
    public var defaultProfile: String

    public init(images: [String: String], defaultProfile: String) {
        self.images = images
        self.defaultProfile = defaultProfile
    }

    /// Where file variables go, relative to the workspace.
    public static let fileVariableDir = ".airlock-vars"

    public func map(_ p: GitLabJobPayload, sourceDir: String, inputs: [String]) throws -> Mapped {
        var notes: [String] = []
        var profile = defaultProfile
        if let image = p.image, !image.name.isEmpty {
            guard let mapped = images[image.name] else {
                throw Refusal(
                    reason: .runnerUnsupported,
                    message:
                        "this runner runs jobs in Airlock sandboxes, not container images, and image '\(image.name)' is not mapped to a sandbox profile (fix: add it under gitlab.images in the agent config, or run the job on a container runner)"
                )
            }
            profile = mapped
        }
        if !p.services.isEmpty {
            throw Refusal(
                reason: .runnerUnsupported,
                message:
                    "this runner does not run services (\(p.services.map(\.name).joined(separator: ", "))): sandboxes have no network (fix: run the job on a runner with services)"
            )
        }
        var steps: [Job.Step] = []
        for s in p.steps {
            let when: Job.Step.When
            switch (s.name, s.when) {
            case ("after_script", _): when = .always
            case (_, "on_failure"): when = .onFailure
            case (_, "always"): when = .always
            default: when = .onSuccess
            }
            let name = s.name.isEmpty ? "step-\(steps.count + 1)" : s.name
            guard !steps.contains(where: { $0.name == name }) else {
                throw Refusal(reason: .runnerSystemFailure, message: "the job payload has two steps named '\(name)'")
            }
            let timeout = s.name == "after_script" && s.timeout > 0 ? Double(s.timeout) : nil
            steps.append(Job.Step(name: name, run: Self.script(s.script), when: when, timeout: timeout))
        }
        guard steps.contains(where: { $0.when == .onSuccess }) else {
            throw Refusal(reason: .runnerSystemFailure, message: "the job payload has no script step")
        }

        var env: [(key: String, value: String)] = []
        var values: [String: String] = [:]
        var masked: Set<String> = []
        var maskValues: [String] = []
        var files: [(String, String)] = []
        for v in p.variables {
            guard Self.isVariableName(v.key) else {
                notes.append("WARNING: variable '\(v.key)' is not a valid environment name; skipped")
                continue
            }
            var value = v.raw ? v.value : Self.expand(v.value, with: values)
            if v.file {
                files.append((v.key, value))
                value = "/workspace/\(Self.fileVariableDir)/\(v.key)"
            }
            if v.masked {
                masked.insert(v.key)
                maskValues.append(v.value)
            }
            values[v.key] = value
            env.removeAll { $0.key == v.key }
            env.append((v.key, value))
        }
        for (k, v) in [("CI_PROJECT_DIR", "/workspace"), ("CI_BUILDS_DIR", "/"), ("CI_SERVER", "yes"), ("CI", "true")] {
            env.removeAll { $0.key == k }
            env.append((k, v))
        }

        var artifact: ArtifactSpec?
        for a in p.artifacts {
            if a.artifactType != "archive" && !a.artifactType.isEmpty {
                notes.append("WARNING: artifact type '\(a.artifactType)' is not supported by this runner; skipped")
                continue
            }
            if artifact != nil {
                notes.append("WARNING: only the first artifacts archive is uploaded")
                continue
            }
            if a.untracked {
                notes.append("WARNING: artifacts:untracked is not supported; only the listed paths are uploaded")
            }
            if !a.exclude.isEmpty { notes.append("WARNING: artifacts:exclude is not supported; it is ignored") }
            if a.when == "on_failure" || a.when == "always" {
                notes.append(
                    "WARNING: artifacts:when \(a.when) is not supported; artifacts are uploaded on success only")
            }
            for (i, path) in a.paths.enumerated()
            where PathSyntax.isAbsolute(path) || PathSyntax.hasParentReference(path)
                || path.utf8.contains(where: { $0 < 0x20 })
            {
                throw Refusal(
                    reason: .scriptFailure,
                    message:
                        "artifacts:paths[\(i)] ('\(path)') must be a relative path inside the project directory, without '..' or control characters (fix: name the files below the project directory)"
                )
            }
            artifact = a
        }

        var job = Job(
            name: "job-\(p.id)", profile: profile, inputs: inputs + (files.isEmpty ? [] : [Self.fileVariableDir]),
            steps: steps, env: env, outputs: artifact?.paths ?? [],
            timeout: p.runnerInfo.timeout > 0 ? Double(p.runnerInfo.timeout) : nil)
        job.sourceFile = sourceDir + "/.gitlab-job"
        job.maskedEnv = masked
        return Mapped(job: job, maskValues: maskValues, files: files, artifact: artifact, notes: notes)
    }

    /// A step's commands as one `sh -e` script, each echoed first as `$ command`.
    static func script(_ lines: [String]) -> String {
        lines.map { "printf '%s\\n' \(shellQuote("$ " + $0))\n\($0)" }.joined(separator: "\n")
    }

    static func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func isVariableName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && CharacterSet.letters.contains(f)) else {
            return false
        }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
    }

    /// `$NAME` and `${NAME}` replaced by earlier variables (unknown names become empty, as in
    /// GitLab Runner); `$$` is a literal `$`.
    static func expand(_ text: String, with vars: [String: String]) -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            guard c == "$", text.index(after: i) < text.endIndex else {
                out.append(c)
                i = text.index(after: i)
                continue
            }
            var j = text.index(after: i)
            if text[j] == "$" {
                out.append("$")
                i = text.index(after: j)
                continue
            }
            let braced = text[j] == "{"
            if braced { j = text.index(after: j) }
            var name = ""
            while j < text.endIndex, text[j] == "_" || text[j].isLetter || text[j].isNumber, text[j].isASCII {
                name.append(text[j])
                j = text.index(after: j)
            }
            if braced {
                guard j < text.endIndex, text[j] == "}", !name.isEmpty else {
                    out.append(c)
                    i = text.index(after: i)
                    continue
                }
                j = text.index(after: j)
            }
            if name.isEmpty {
                out.append(c)
                i = text.index(after: i)
                continue
            }
            out += vars[name] ?? ""
            i = j
        }
        return out
    }
}

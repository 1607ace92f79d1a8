import AirlockCore
import AirlockGitLab
import AirlockOS
import AirlockSandbox
import Foundation

/// Fetches a job's sources with git, on the host and outside the sandbox (which has no
/// network): a fresh clone of `git_info.repo_url` (the job token in the URL authenticates it),
/// checked out at `git_info.sha`. What was checked out is hashed with the other inputs when the
/// job's workspace is filled, and so recorded in the provenance.
///
/// As root, git runs as the unprivileged `fetchUID` (via `setpriv`, no supplementary groups):
/// a hostile repository or server then meets git's attack surface without root's privileges.
enum SourceFetcher {
    /// The host uid/gid git runs as when the agent is root (`nobody`).
    static let fetchUID: UInt32 = 65534

    /// Clone into `dir` (empty) and check out the job's commit; returns the commit id.
    static func fetch(_ git: GitLabJobPayload.GitInfo, into dir: String) async throws -> String {
        if geteuid() == 0 {
            // The directory (not its parents) belongs to the fetch user; parents are traversable.
            guard chown(dir, fetchUID, fetchUID) == 0 else {
                throw AirlockError(
                    .sandboxSetup,
                    "cannot hand \(dir) to uid \(fetchUID) for the git fetch: \(String(cString: strerror(errno)))",
                    hint: "the agent's state directory must be on a local file system that supports chown")
            }
        }
        var clone = ["clone", "--quiet", "--no-tags"]
        if git.depth > 0 { clone += ["--depth", String(git.depth)] }
        if !git.ref.isEmpty { clone += ["--branch", git.ref] }
        try await run(clone + [git.repoURL, dir], what: "clone \(redact(git.repoURL))")
        if !git.sha.isEmpty {
            do {
                try await run(["-C", dir, "checkout", "--quiet", "--detach", git.sha], what: "checkout \(git.sha)")
            } catch {
                // Not within the shallow history: fetch that commit, then check it out.
                try await run(["-C", dir, "fetch", "--quiet", "origin", git.sha], what: "fetch \(git.sha)")
                try await run(["-C", dir, "checkout", "--quiet", "--detach", git.sha], what: "checkout \(git.sha)")
            }
        }
        let head = try await run(["-C", dir, "rev-parse", "HEAD"], what: "rev-parse")
        // Back to root before anything reads the tree, so no other process of the fetch user
        // can change the sources between this hash-worthy checkout and the workspace copy.
        if geteuid() == 0 { try Workspace.handOver(dir, from: fetchUID, to: 0, gid: 0) }
        return head.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The URL without credentials, for the trace.
    static func redact(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil || c.user != nil else { return url }
        c.user = nil
        c.password = nil
        return c.string ?? url
    }

    /// A git command that runs longer than this is killed (with what it started) and the fetch
    /// fails, instead of holding a job slot forever on a server that stopped answering.
    static let gitTimeout: Double = 3600

    @discardableResult
    static func run(_ args: [String], what: String) async throws -> String {
        var env = ["PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0", "HOME": "/nonexistent", "LC_ALL": "C"]
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        let command =
            geteuid() == 0
            ? HostCommand(
                "/usr/bin/setpriv",
                ["--reuid=\(fetchUID)", "--regid=\(fetchUID)", "--clear-groups", "--", "/usr/bin/git"] + args,
                environment: env, timeout: gitTimeout)
            : HostCommand("/usr/bin/git", args, environment: env, timeout: gitTimeout)
        // stdout and stderr are drained together: a git that fills its stderr pipe (progress,
        // warnings) while nobody reads it would otherwise block forever.
        let result: HostCommand.Result
        do { result = try await command.run() } catch {
            throw AirlockError(
                .hostUnsupported, "cannot run git to fetch the job's sources: \(error)",
                hint: "install git on the agent's host (apt-get install git)")
        }
        if result.succeeded { return result.stdoutText }
        if result.timedOut {
            throw AirlockError(
                .gitlabSources, "git \(what) did not finish within \(Int(gitTimeout)) s and was killed",
                hint: "check that the git server answers")
        }
        let msg = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        throw AirlockError(
            .gitlabSources, "git \(what) failed (exit \(result.status)): \(msg)",
            hint: "check the repository URL and that the job token may read it")
    }
}

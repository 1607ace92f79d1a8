import AirlockCore
import AirlockGitLab
import AirlockJob
import AirlockOS
import AirlockSandbox
import AirlockSecrets
import Foundation

/// One GitLab job: two-phase acceptance, sources fetched outside the sandbox, the job run in
/// sandboxes with its trace streamed, artifacts (outputs + provenance + SBOM) uploaded, and the
/// final state reported. Cancellation from the coordinator (`Job-Status`) stops the sandbox.
struct GitLabAgentJob: AgentJob {
    let source: GitLabSource
    let payload: GitLabJobPayload
    let claimedAt = Date()

    init(source: GitLabSource, payload: GitLabJobPayload) {
        self.source = source
        self.payload = payload
    }

    var jobID: Int { payload.id }
    var token: String { payload.token }

    var id: String { "gitlab-\(jobID)" }

    var record: InFlightRecord {
        InFlightRecord(
            id: id, source: "gitlab", fields: ["job": String(jobID), "token": token, "url": source.config.url],
            started: claimedAt)
    }

    func run(executor: JobExecutor, control: JobControl) async -> JobOutcome {
        // A quiet job still asks GitLab every few seconds, so a cancel reaches it quickly.
        var options = GitLabJobSession.Options()
        options.keepAliveInterval = 5
        let session = GitLabJobSession(
            client: source.client, payload: payload, maskValues: [], traceLimit: source.traceLimit,
            logger: source.logger, options: options)
        session.onRemoteStatusChange { status in
            switch status {
            case .canceling: control.cancel(.graceful)
            case .canceled, .failed: control.cancel(.abort)
            default: break
            }
        }
        session.startTraceStreaming()
        // The agent's own lines quote the payload (image names, refusals): controls are escaped.
        let say = { (text: String) in
            session.appendTrace(Array((LogFramer.lines(text).joined(separator: "\n") + "\n").utf8))
        }
        say(
            "Running with Airlock \(AirlockVersion.current) on \(source.agentName) (system id \(source.config.systemID))"
        )

        // Phase one: keep GitLab told we are preparing, until the job runs.
        let keepAlive = Task {
            while !Task.isCancelled {
                await session.keepAlivePending()
                try? await Task.sleep(nanoseconds: 10_000_000_000)
            }
        }
        let work = source.buildsDir + "/\(jobID)-\(randomHex(4))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let outcome: JobOutcome
        do {
            let prepared = try await prepare(payload, work: work, executor: executor, say: say)
            keepAlive.cancel()
            await session.markRunning()
            outcome = await execute(
                prepared, work: work, executor: executor, control: control, session: session, say: say)
        } catch let refusal as GitLabJobMapper.Refusal {
            keepAlive.cancel()
            say("ERROR: \(refusal.message)")
            outcome = await finish(
                session, .failed, refusal.reason, nil, state: .systemFailure, message: refusal.message)
        } catch {
            keepAlive.cancel()
            say("ERROR: preparing the job failed: \(error)")
            outcome = await finish(
                session, .failed, .runnerSystemFailure, nil, state: .systemFailure, message: "\(error)")
        }
        return outcome
    }

    /// Fetch the sources and map the payload (all outside the sandbox).
    private func prepare(
        _ payload: GitLabJobPayload, work: String, executor: JobExecutor, say: (String) -> Void
    ) async throws -> GitLabJobMapper.Mapped {
        let src = work + "/src"
        try FileManager.default.createDirectory(atPath: src, withIntermediateDirectories: true)
        var inputs: [String] = []
        if !payload.gitInfo.repoURL.isEmpty {
            say(
                "Fetching sources: \(SourceFetcher.redact(payload.gitInfo.repoURL)) \(payload.gitInfo.ref) @ \(payload.gitInfo.sha.prefix(12))"
            )
            let commit = try await SourceFetcher.fetch(payload.gitInfo, into: src)
            say("Checked out \(commit.prefix(12)) (the sandbox has no network; the agent fetched the sources)")
            inputs = ((try? FileManager.default.contentsOfDirectory(atPath: src)) ?? []).sorted()
        }
        var mapped = try source.mapper.map(payload, sourceDir: src, inputs: inputs)
        if !mapped.files.isEmpty {
            let dir = src + "/" + GitLabJobMapper.fileVariableDir
            try PrivateFile.ensureDirectory(dir)
            for (name, contents) in mapped.files {
                try PrivateFile.createNew(dir + "/" + name, contents: Array(contents.utf8))
            }
        }
        for n in mapped.notes { say(n) }
        _ = try executor.profile(for: mapped.job, jobProfiles: false)  // refuse an unknown profile before running
        mapped.notes = []
        say("Preparing the sandbox: profile '\(mapped.job.profile)', no network")
        return mapped
    }

    private func execute(
        _ mapped: GitLabJobMapper.Mapped, work: String, executor: JobExecutor, control: JobControl,
        session: GitLabJobSession, say: @escaping (String) -> Void
    ) async -> JobOutcome {
        let out = work + "/out"
        let pipe = Pipe()
        let reader = Thread {
            let fh = pipe.fileHandleForReading
            while true {
                let d = fh.availableData
                if d.isEmpty { break }
                session.appendTrace(Array(d))
            }
        }
        reader.start()
        let result: JobExecutor.Result
        do {
            result = try await executor.execute(
                job: mapped.job, outDir: out, console: pipe.fileHandleForWriting,
                mask: mapped.maskValues.map { SecretValue($0) }, control: control, jobID: id,
                jobProfiles: false)
        } catch {
            try? pipe.fileHandleForWriting.close()
            say("ERROR: the sandbox could not run the job: \(error)")
            return await finish(session, .failed, .runnerSystemFailure, nil, state: .systemFailure, message: "\(error)")
        }
        try? pipe.fileHandleForWriting.close()
        while !reader.isFinished { try? await Task.sleep(nanoseconds: 2_000_000) }
        let r = result.report
        if r.canceled {
            say("ERROR: Job canceled")
            return await finish(session, .failed, .jobCanceled, r.exitCode, state: .canceled, message: "canceled")
        }
        if r.exitCode != 0 {
            let reason: FailureReason = r.timedOut ? .jobExecutionTimeout : .scriptFailure
            say("ERROR: Job failed: \(r.failureMessage ?? "exit code \(r.exitCode)")")
            return await finish(session, .failed, reason, r.exitCode, state: .failed, message: r.failureMessage)
        }
        if let spec = mapped.artifact, !r.outputs.isEmpty || result.attestation != nil {
            do {
                let zip = try ArtifactArchive.make(
                    outDir: out, outputs: r.outputs, attestation: result.attestation, at: work + "/artifacts.zip")
                say("Uploading artifacts: \(r.outputs.count) file(s) + provenance and SBOM")
                try await session.uploadArtifacts(
                    zipPath: zip, name: spec.name.isEmpty ? "artifacts.zip" : spec.name + ".zip", format: "zip",
                    type: "archive", expireIn: spec.expireIn.isEmpty ? nil : spec.expireIn)
            } catch {
                say("ERROR: uploading artifacts failed: \(error)")
                return await finish(
                    session, .failed, .runnerSystemFailure, 0, state: .systemFailure, message: "\(error)")
            }
        }
        say("Job succeeded")
        return await finish(session, .success, nil, 0, state: .success, message: nil)
    }

    private func finish(
        _ session: GitLabJobSession, _ state: JobState, _ reason: FailureReason?, _ exit: Int32?,
        state outcome: JobOutcome.State, message: String?
    ) async -> JobOutcome {
        do { try await session.finish(state: state, failureReason: reason, exitCode: exit) } catch {
            source.logger.error("final update of job \(jobID) failed: \(error)")
        }
        return JobOutcome(state: outcome, exitCode: exit, message: message)
    }
}

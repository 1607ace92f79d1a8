import AirlockCore
import AirlockOS
import AirlockProfile
import AirlockSecrets
import Foundation

/// What happened to one step.
public struct StepReport: Sendable {
    public var name: String
    public var exitCode: Int32
    public var duration: Double
    public var result: SandboxResult
}

/// What happened to a job run with `JobRunner`.
public struct JobReport: Sendable {
    /// The job's exit status: the failing step's, 124 on timeout, 0 on success.
    public var exitCode: Int32
    public var steps: [StepReport]
    /// The step that failed, if any.
    public var failedStep: String?
    public var timedOut: Bool
    /// Output paths copied to the out dir (relative to it).
    public var outputs: [String]
    public var logPath: String
    public var startedOn: Date
    public var finishedOn: Date
    public var sourceDateEpoch: Int64
    /// A message for the person at the keyboard when the job failed.
    public var failureMessage: String?
    /// Digests of the inputs as the job saw them in its workspace (paths relative to it).
    public var inputDigests: [FileHasher.Entry] = []
    /// Digests of the collected outputs (paths relative to the out dir; SHA-1 too, for SPDX).
    public var outputDigests: [FileHasher.Entry] = []
    /// The limits the steps ran with.
    public var limits: SandboxSpec.Limits
    /// Whether the job was stopped through its `JobControl`.
    public var canceled = false
}

/// Runs a `Job`: fresh workspace with the inputs, one sandbox per step (sharing the workspace,
/// the uid range and the deadline), live and saved logs, outputs collected after success, and
/// the workspace removed on every path.
public final class JobRunner: @unchecked Sendable {
    public let sandbox: Sandbox
    public init(sandbox: Sandbox) { self.sandbox = sandbox }

    /// Run `job`. When it declares `secrets:`, `secrets` says where they come from; they are issued
    /// after the inputs are in place, delivered to every step, masked in the log, and revoked when
    /// the job ends, however it ends. `mask` adds values to hide from the log (a coordinator's
    /// masked variables); `control` lets another thread cancel the job.
    public func run(
        job: Job, profile: Profile, outDir: String, console: FileHandle?, secrets: SecretsContext? = nil,
        mask: [SecretValue] = [], control: JobControl? = nil
    ) throws -> JobReport {
        let started = Date()
        let jobFile = job.sourceFile ?? "<job>"
        let jobDir = ((job.sourceFile ?? FileManager.default.currentDirectoryPath + "/job.yaml") as NSString)
            .deletingLastPathComponent
        let finalOut = outDir
        let out = try OutDirectory.prepare(finalOut)
        defer { out.discard() }
        let outDir = out.staging
        let identity = try SandboxIdentity.acquire(state: sandbox.state)
        defer { identity.release() }
        let workspaceLimit = job.resources.workspace ?? profile.limits.workspace
        let workspace = try Workspace.create(
            state: sandbox.state, name: job.name, identity: identity, sizeLimit: workspaceLimit)
        defer { workspace.remove() }

        // Inputs, copied in; SOURCE_DATE_EPOCH defaults to the newest input's mtime.
        let inputPaths = try Self.inputPaths(job, jobFile: jobFile)
        var newest: Int64 = 0
        if !inputPaths.isEmpty {
            let source: ConfinedDirectory
            do { source = try ConfinedDirectory.open(jobDir) } catch {
                throw AirlockError(.missingFile, "\(jobFile): cannot open the job's directory \(jobDir): \(error)")
            }
            for (input, rel) in zip(job.inputs, inputPaths) {
                do { newest = max(newest, try workspace.add(rel, from: source, identity: identity)) } catch let e
                    as OSError
                {
                    throw Self.inputError(e, input: input, jobFile: jobFile, jobDir: jobDir)
                }
            }
        }
        if newest == 0, let f = job.sourceFile { newest = Self.newestMTime(f) }
        // What the build saw: the inputs' digests as copied into the workspace.
        let inputDigests = try FileHasher.hash(root: workspace.path, paths: inputPaths)
        let epoch = job.sourceDateEpoch ?? newest

        var limits = SandboxSpec.Limits(profile: profile.limits)
        if let m = job.resources.memory { limits.memory = m }
        if let p = job.resources.pids { limits.pids = p }
        if let c = job.resources.cpus { limits.cpus = c }
        let timeout = job.timeout ?? profile.limits.timeout
        limits.timeout = timeout
        let deadline = timeout.map { Date().addingTimeInterval($0) }

        // Secrets: checked before anything is issued, issued once for the whole job.
        let requests = try job.secrets.map { try SecretRequest(entry: $0) }
        if let envSecret = requests.first(where: { $0.delivery == .env }), !profile.allowSecretEnv {
            throw AirlockError(
                .init("secrets.env-not-allowed"),
                "\(jobFile): secret '\(envSecret.name)' asks for delivery: env, which profile '\(profile.name)' does not allow",
                hint:
                    "use the default file delivery (/run/secrets/\(envSecret.name)), or a profile with `secrets: {allowEnv: true}`"
            )
        }

        func runSteps(_ issued: [IssuedSecret]) throws -> JobReport {
            var secretFiles: [(name: String, contents: String)] = []
            var secretEnv: [(key: String, value: String)] = []
            for s in issued {
                let text = try s.value.withBytes { bytes -> String in
                    guard !bytes.contains(0), let t = String(bytes: bytes, encoding: .utf8) else {
                        throw AirlockError(
                            .init("secrets.binary"), "secret '\(s.request.name)' is not UTF-8 text without NUL bytes",
                            hint: "store binary secrets base64-encoded and decode them in the job")
                    }
                    return t
                }
                if s.request.delivery == .env {
                    secretEnv.append((s.request.name, text))
                } else {
                    secretFiles.append((s.request.name, text))
                }
            }
            let hidden = issued.map(\.value) + mask
            // One masker per stream: each sees its stream's bytes in order, across chunks.
            let makeMasker: (() -> OutputFilter)? = hidden.isEmpty ? nil : { SecretMasker(secrets: hidden) }
            let logName = job.name + ".log"
            let logPath = outDir + "/" + logName
            let sink = try LogSink(
                logPath: logPath, console: console, limit: profile.limits.logLimit, makeFilter: makeMasker)
            let devnull = try OwnedFD.open("/dev/null", O_RDONLY)
            var steps: [StepReport] = []
            var failure: String?
            var failedStep: String?
            var exitCode: Int32 = 0
            var timedOut = false
            defer { sink.finish() }

            var canceled = false
            for (i, step) in job.steps.enumerated() {
                if control?.cancellation == .abort {
                    canceled = true
                    break
                }
                if control?.cancellation == .graceful { canceled = true }
                let failedSoFar = failedStep != nil || canceled
                switch step.when {
                case .onSuccess where failedSoFar, .onFailure where !failedSoFar:
                    continue
                default: break
                }
                let cleanup = step.when != .onSuccess
                // Step names come from the job file: quoted so they cannot break or restyle a line.
                let stepName = LogFramer.printable(step.name)
                sink.note("==> [\(i + 1)/\(job.steps.count)] \(stepName)\n")
                var stepLimits = limits
                if let d = deadline {
                    let left = d.timeIntervalSinceNow
                    if left <= 0 && !cleanup {
                        timedOut = true
                        exitCode = 124
                        failedStep = step.name
                        continue
                    }
                    // Clean-up steps still run after the deadline, with their own limit.
                    stepLimits.timeout = left > 0 ? left : (step.timeout ?? Self.cleanupGrace)
                }
                if let t = step.timeout { stepLimits.timeout = min(stepLimits.timeout ?? t, t) }
                var spec = SandboxSpec(
                    profile: profile, command: ["/bin/sh", "-e", "-c", step.run], environment: job.env + secretEnv,
                    workspace: workspace.path, limits: stepLimits, workingDirectory: "/workspace",
                    stdio: (devnull.raw, sink.stdoutWriteEnd.raw, sink.stderrWriteEnd.raw), sourceDateEpoch: epoch)
                spec.secretFiles = secretFiles
                let r = try sandbox.runBlocking(spec, identity: identity, control: control, cleanup: cleanup)
                steps.append(StepReport(name: step.name, exitCode: r.exitCode, duration: r.duration, result: r))
                let stoppedByCancel = control?.cancellation != nil && !(cleanup && control?.cancellation == .graceful)
                if r.exitCode != 0 {
                    let why =
                        stoppedByCancel
                        ? "canceled"
                        : Self.describeFailure(step: step.name, result: r, timeout: timeout, limits: stepLimits)
                    sink.note("==> step '\(stepName)' failed: \(why)\n")
                    if stoppedByCancel { canceled = true }
                    if failedStep == nil {
                        exitCode = r.exitCode
                        failedStep = step.name
                        timedOut = r.timedOut && !stoppedByCancel
                        failure = why
                    }
                    continue
                }
                sink.note("==> step '\(stepName)' finished in \(String(format: "%.2f", r.duration))s\n")
            }
            if canceled && failedStep == nil {
                exitCode = 130
                failure = "the job was canceled"
            } else if canceled {
                failure = "the job was canceled"
            }
            if timedOut && failure == nil {
                failure = "the job timed out after \(Int(timeout ?? 0))s"
            }

            var outputs: [String] = []
            var outputDigests: [FileHasher.Entry] = []
            if exitCode == 0 {
                do {
                    let collector = OutputCollector(
                        reserved: Self.reservedNames(job), forbidden: hidden,
                        byteLimit: workspaceLimit ?? Self.outputLimitWithoutWorkspaceLimit,
                        deadline: deadline.map { TreeCopier.monotonicNow() + max(0, $0.timeIntervalSinceNow) },
                        jobFile: jobFile)
                    outputs = try collector.collect(patterns: job.outputs, workspace: workspace.path, to: outDir)
                    outputDigests = try FileHasher.hash(root: outDir, paths: outputs, sha1: true)
                } catch let e as AirlockError {
                    exitCode = 1
                    failure = e.message
                    outputs = []
                    Self.removeCollected(from: outDir, keeping: [logName, OutDirectory.marker])
                    sink.note("==> \(e.message)\n")
                }
            }
            sink.note(
                exitCode == 0
                    ? "==> job '\(job.name)' succeeded; \(outputs.count) output(s) in \(finalOut)\n"
                    : "==> job '\(job.name)' failed with exit status \(exitCode)\n")
            return JobReport(
                exitCode: exitCode, steps: steps, failedStep: failedStep, timedOut: timedOut, outputs: outputs,
                logPath: logPath, startedOn: started, finishedOn: Date(), sourceDateEpoch: epoch,
                failureMessage: failure,
                inputDigests: inputDigests, outputDigests: outputDigests, limits: limits, canceled: canceled)
        }

        var report = try runWithSecrets(requests, secrets: secrets, jobFile: jobFile, limits: limits, body: runSteps)
        try out.commit()
        report.logPath = finalOut + "/" + (report.logPath as NSString).lastPathComponent
        return report
    }

    private func runWithSecrets(
        _ requests: [SecretRequest], secrets: SecretsContext?, jobFile: String, limits: SandboxSpec.Limits,
        body: ([IssuedSecret]) throws -> JobReport
    ) throws -> JobReport {
        if requests.isEmpty { return try body([]) }
        guard let secrets else {
            throw AirlockError(
                .init("secrets.no-broker"), "\(jobFile): the job declares secrets but no secret broker is configured",
                hint:
                    "`airlock run` uses the embedded store (`airlock secrets put NAME`) and OpenBao when AIRLOCK_VAULT_ADDR is set"
            )
        }
        let ttl = (limits.timeout ?? 3600) + 30
        secretEnvWarned(requests)
        return try SecretScope.withSecrets(
            broker: secrets.broker, journal: secrets.journal, access: secrets.access,
            jobID: secrets.jobID ?? UUID().uuidString.lowercased(),
            requests: requests, ttl: ttl, body: body)
    }

    private func secretEnvWarned(_ requests: [SecretRequest]) {
        for r in requests where r.delivery == .env {
            FileHandle.standardError.write(
                Data(
                    "airlock: warning: secret '\(r.name)' is delivered as an environment variable; child processes inherit it\n"
                        .utf8))
        }
    }

    /// The limit for a clean-up step that starts after the job's deadline (GitLab's default
    /// `after_script` timeout).
    static let cleanupGrace: Double = 300

    static func describeFailure(step: String, result r: SandboxResult, timeout: Double?, limits: SandboxSpec.Limits)
        -> String
    {
        if r.timedOut { return "timed out (job timeout \(Int(timeout ?? 0))s); the whole process tree was killed" }
        if r.oomKilled {
            return
                "killed by the out-of-memory killer at the memory limit (\(limits.memory.map(String.init) ?? "?") bytes)"
        }
        if r.exitCode > 128 {
            return "killed by signal \(r.exitCode - 128)" + (r.pidsLimitHit ? " (the pids limit was hit)" : "")
        }
        return "exit status \(r.exitCode)" + (r.pidsLimitHit ? " (the pids limit of \(limits.pids ?? 0) was hit)" : "")
    }

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

/// Where a job's secrets come from and where their leases are recorded.
public struct SecretsContext: Sendable {
    public var broker: any SecretBroker
    public var journal: LeaseJournal
    public var access: SecretAccessLog
    /// The job's id in leases and policies; random when nil.
    public var jobID: String?

    public init(broker: any SecretBroker, journal: LeaseJournal, access: SecretAccessLog, jobID: String? = nil) {
        self.broker = broker
        self.journal = journal
        self.access = access
        self.jobID = jobID
    }
}

extension SecretMasker: OutputFilter {}

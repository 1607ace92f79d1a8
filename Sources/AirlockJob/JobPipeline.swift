import AirlockCore
import AirlockOS
import AirlockProfile
import AirlockSandbox
import AirlockSecrets
import Foundation

/// One job to run.
public struct JobRequest: Sendable {
    public var job: Job
    public var profile: Profile
    /// Where the log, the outputs and the attestation go (`OutDirectory`).
    public var outDir: String
    /// The live log (nil: saved only).
    public var console: FileHandle?
    /// Values to hide from the log besides the job's secrets (a coordinator's masked variables).
    public var mask: [SecretValue]
    /// Lets another thread cancel the job.
    public var control: JobControl?
    /// The job's id in leases and policies (random when nil).
    public var jobID: String?

    public init(
        job: Job, profile: Profile, outDir: String, console: FileHandle? = nil, mask: [SecretValue] = [],
        control: JobControl? = nil, jobID: String? = nil
    ) {
        self.job = job
        self.profile = profile
        self.outDir = outDir
        self.console = console
        self.mask = mask
        self.control = control
        self.jobID = jobID
    }
}

/// What a job run produced.
public struct JobResult: Sendable {
    public var report: JobReport
    /// The SBOM and signed provenance, when the job succeeded and the pipeline signs.
    public var attestation: AttestationFiles?
}

/// The journey of one job, as a list of stages (README "Architecture" draws it):
///
///     out dir + uid slot + workspace ─> Materials ─> SecretDelivery ─> StepScheduler
///       ─> Outputs ─> Attestation ─> commit ─> Teardown (on every path)
///
/// Each stage is its own type with one job; `run` only hands each stage's value to the next.
/// `airlock run`, the spool and the GitLab sources all call it. A new capability (a policy gate,
/// image resolution, egress, scanning, audit events) is a new stage in this list, not an edit
/// inside another stage. The job's non-zero exit is a result in the report, not an error; an
/// error means the job could not be run as asked (bad input, host problem), and nothing is left
/// behind either way.
public struct JobPipeline: Sendable {
    public let sandbox: Sandbox
    /// Where secrets come from; nil when no broker is configured.
    public var secrets: SecretsContext?
    /// How outputs are signed; nil leaves them unsigned (tests only — the runner always signs).
    public var attestation: AttestationOptions?
    /// Monotonic seconds: the job's deadline is measured on it.
    public var clock: @Sendable () -> Double

    public init(
        sandbox: Sandbox, secrets: SecretsContext? = nil, attestation: AttestationOptions? = nil,
        clock: @escaping @Sendable () -> Double = TreeCopier.monotonicNow
    ) {
        self.sandbox = sandbox
        self.secrets = secrets
        self.attestation = attestation
        self.clock = clock
        // Provenance describes the host toolchain: keep that description between runs.
        ToolchainInspector.cache(in: sandbox.state)
    }

    /// Run the job through every stage. Blocks (the sandbox API does); call it off the
    /// cooperative pool.
    public func run(_ r: JobRequest) throws -> JobResult {
        let started = Date()
        let teardown = Teardown()
        defer { teardown.run() }
        let limits = ResourceLimits.resolve(profile: r.profile.limits, job: r.job)
        let out = try OutDirectory.prepare(r.outDir)
        teardown.add("out dir staging") { out.discard() }
        let identity = try SandboxIdentity.acquire(state: sandbox.state)
        teardown.add("uid slot") { identity.release() }
        let workspace = try Workspace.create(
            state: sandbox.state, name: r.job.name, identity: identity, sizeLimit: limits.workspace)
        teardown.add("workspace") { workspace.remove() }

        let staged = try Materials(job: r.job).stage(into: workspace, identity: identity)
        let deadline = limits.timeout.map { clock() + $0 }
        var context = secrets
        if let id = r.jobID { context?.jobID = id }
        let delivery = try SecretDelivery(job: r.job, profile: r.profile, context: context, mask: r.mask)
        var report = try delivery.withSecrets(ttl: (limits.timeout ?? 3600) + 30) { delivered in
            try runSteps(
                r, delivered: delivered, workspace: workspace, identity: identity, limits: limits, staged: staged,
                deadline: deadline, outDir: out.staging, started: started)
        }
        var files: AttestationFiles?
        if report.exitCode == 0, let options = attestation {
            files = try Attestation(options: options, programs: sandbox.programs)
                .sign(report: report, job: r.job, profile: r.profile, outDir: out.staging)
        }
        try out.commit()
        report.logPath = Self.moved(report.logPath, to: out.path)
        if var f = files {
            f.provenancePath = Self.moved(f.provenancePath, to: out.path)
            f.sbomPath = Self.moved(f.sbomPath, to: out.path)
            files = f
        }
        return JobResult(report: report, attestation: files)
    }

    /// The steps, with the log open, then the outputs.
    func runSteps(
        _ r: JobRequest, delivered: SecretDelivery.Delivered, workspace: Workspace, identity: SandboxIdentity,
        limits: ResourceLimits, staged: Materials.Staged, deadline: Double?, outDir: String, started: Date
    ) throws -> JobReport {
        let job = r.job
        let logName = job.name + ".log"
        let sink = try LogSink(
            logPath: outDir + "/" + logName, console: r.console, limit: r.profile.limits.logLimit,
            makeFilter: delivered.makeMasker)
        defer { sink.finish() }
        let devnull = try OwnedFD.open("/dev/null", O_RDONLY)
        let launcher = SandboxStepLauncher(
            sandbox: sandbox, profile: r.profile, environment: job.env + delivered.env, secretFiles: delivered.files,
            workspace: workspace, identity: identity, limits: limits,
            stdio: (devnull.raw, sink.stdoutWriteEnd.raw, sink.stderrWriteEnd.raw),
            sourceDateEpoch: staged.sourceDateEpoch, control: r.control)
        let control = r.control
        var scheduler = StepScheduler(
            steps: job.steps, limits: limits, deadline: deadline, clock: clock,
            cleanupGrace: sandbox.grace.cleanupStep, cancellation: { control?.cancellation }, note: { sink.note($0) })
        var steps = try withExtendedLifetime(devnull) { try scheduler.run(launcher) }

        var collected = Outputs.Collected()
        if steps.exitCode == 0 {
            do {
                collected = try Outputs(
                    job: job, forbidden: delivered.hidden, byteLimit: limits.workspace, deadline: deadline
                ).collect(workspace: workspace.path, to: outDir, keeping: [logName, OutDirectory.marker])
            } catch let e as AirlockError {
                steps.exitCode = 1
                steps.failure = e.message
                sink.note("==> \(e.message)\n")
            }
        }
        sink.note(
            steps.exitCode == 0
                ? "==> job '\(job.name)' succeeded; \(collected.paths.count) output(s) in \(r.outDir)\n"
                : "==> job '\(job.name)' failed with exit status \(steps.exitCode)\n")
        return JobReport(
            exitCode: steps.exitCode, steps: steps.steps, failedStep: steps.failedStep, timedOut: steps.timedOut,
            outputs: collected.paths, logPath: outDir + "/" + logName, startedOn: started, finishedOn: Date(),
            sourceDateEpoch: staged.sourceDateEpoch, failureMessage: steps.failure, inputDigests: staged.inputDigests,
            outputDigests: collected.digests, limits: limits, canceled: steps.canceled)
    }

    /// `path` (written in the staging dir) as it is after the commit.
    static func moved(_ path: String, to final: String) -> String {
        final + "/" + (path as NSString).lastPathComponent
    }
}

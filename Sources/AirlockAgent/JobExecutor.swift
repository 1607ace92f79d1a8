import AirlockCore
import AirlockProfile
import AirlockProvenance
import AirlockSandbox
import AirlockSecrets
import Foundation
import Logging

/// Runs Airlock jobs for the agent: sandbox, secrets, provenance. Shared by all job sources and
/// safe to call from several jobs at once (each gets its own uid slot, workspace and cgroup).
public final class JobExecutor: Sendable {
    /// The result of one execution.
    public struct Result: Sendable {
        public var report: JobReport
        /// Provenance and SBOM, when the job succeeded and was signed.
        public var attestation: Attestation?
    }

    public let sandbox: Sandbox
    let secrets: SecretsContext?
    let attestation: AttestationOptions?
    let loadProfile: @Sendable (_ name: String, _ relativeTo: String?) throws -> Profile
    let logLimit: UInt64

    /// `loadProfile` resolves a job's `profile:` (the CLI's search path); `attestation` nil
    /// disables signing (tests only — the agent always signs).
    public init(
        sandbox: Sandbox, secrets: SecretsContext?, attestation: AttestationOptions?, logLimit: UInt64,
        loadProfile: @escaping @Sendable (String, String?) throws -> Profile
    ) {
        self.sandbox = sandbox
        self.secrets = secrets
        self.attestation = attestation
        self.loadProfile = loadProfile
        self.logLimit = logLimit
    }

    /// Load the job's profile, with the agent's log limit applied.
    public func profile(for job: Job) throws -> Profile {
        let dir = job.sourceFile.map { ($0 as NSString).deletingLastPathComponent }
        var p = try loadProfile(job.profile, dir)
        p.limits.logLimit = min(p.limits.logLimit, logLimit)
        return p
    }

    /// Run `job` on a thread of its own (the sandbox API blocks), writing its log and outputs to
    /// `outDir`; `console` receives the live log. Signs the outputs when the job succeeded.
    public func execute(
        job: Job, outDir: String, console: FileHandle?, mask: [SecretValue] = [], control: JobControl,
        jobID: String
    ) async throws -> Result {
        let profile = try profile(for: job)
        let runner = JobRunner(sandbox: sandbox)
        var context = secrets
        context?.jobID = jobID
        let secretsContext = context
        let attestation = self.attestation
        return try await withCheckedThrowingContinuation { cont in
            Thread.detachNewThread {
                do {
                    let report = try runner.run(
                        job: job, profile: profile, outDir: outDir, console: console, secrets: secretsContext,
                        mask: mask, control: control)
                    var att: Attestation?
                    if report.exitCode == 0, let options = attestation {
                        att = try runner.attest(
                            report: report, job: job, profile: profile, outDir: outDir, options: options)
                    }
                    cont.resume(returning: Result(report: report, attestation: att))
                } catch {
                    cont.resume(throwing: error)
                }
            }
        }
    }
}

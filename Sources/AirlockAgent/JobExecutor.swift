import AirlockCore
import AirlockJob
import AirlockProfile
import AirlockProvenance
import AirlockSandbox
import AirlockSecrets
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The agent's way into the `JobPipeline`: profiles cached for the agent's life, and the blocking
/// pipeline run on a thread of its own. Shared by all job sources and safe to call from several
/// jobs at once (each gets its own uid slot, workspace and cgroup).
public final class JobExecutor: Sendable {
    /// The result of one execution: the report, and the attestation when the job succeeded.
    public typealias Result = JobResult

    public let sandbox: Sandbox
    let secrets: SecretsContext?
    let attestation: AttestationOptions?
    let loadProfile: @Sendable (_ name: String, _ relativeTo: String?) throws -> Profile
    let logLimit: UInt64
    /// Profiles by (name, directory), loaded once for the agent's life: parsing and resolving
    /// every syscall name per job would cost milliseconds. Restart the agent to reload them.
    private let profiles = NIOLockedValueBox<[String: Profile]>([:])

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

    /// Load the job's profile, with the agent's log limit applied. `jobProfiles` lets the job's
    /// directory provide profiles (spool jobs, written by the agent's owner); a job from a
    /// coordinator must never choose its own sandbox, so its profiles come from the agent only.
    public func profile(for job: Job, jobProfiles: Bool) throws -> Profile {
        let dir = jobProfiles ? job.sourceFile.map { ($0 as NSString).deletingLastPathComponent } : nil
        let key = "\(dir ?? "")|\(job.profile)"
        var p: Profile
        if let cached = profiles.withLockedValue({ $0[key] }) {
            p = cached
        } else {
            p = try loadProfile(job.profile, dir)
            profiles.withLockedValue { $0[key] = p }
        }
        p.limits.logLimit = min(p.limits.logLimit, logLimit)
        return p
    }

    /// Run `job` on a thread of its own (the sandbox API blocks), writing its log and outputs to
    /// `outDir`; `console` receives the live log. Signs the outputs when the job succeeded.
    public func execute(
        job: Job, outDir: String, console: FileHandle?, mask: [SecretValue] = [], control: JobControl,
        jobID: String, jobProfiles: Bool
    ) async throws -> Result {
        let profile = try profile(for: job, jobProfiles: jobProfiles)
        let pipeline = JobPipeline(sandbox: sandbox, secrets: secrets, attestation: attestation)
        let request = JobRequest(
            job: job, profile: profile, outDir: outDir, console: console, mask: mask, control: control, jobID: jobID)
        return try await withCheckedThrowingContinuation { cont in
            Thread.detachNewThread {
                cont.resume(with: Swift.Result { try pipeline.run(request) })
            }
        }
    }
}

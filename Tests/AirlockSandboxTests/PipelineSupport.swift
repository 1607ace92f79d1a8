import AirlockCore
import AirlockJob
import AirlockProfile
import AirlockSandbox
import AirlockSecrets
import Foundation

extension JobPipeline {
    /// A job through the pipeline, unsigned, for tests that look at the report only.
    func run(
        job: Job, profile: Profile, outDir: String, console: FileHandle?, mask: [SecretValue] = [],
        control: JobControl? = nil
    ) throws -> JobReport {
        try run(JobRequest(job: job, profile: profile, outDir: outDir, console: console, mask: mask, control: control))
            .report
    }
}

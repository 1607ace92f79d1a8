import AirlockCore
import AirlockJob
import AirlockProfile
import AirlockProvenance
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock run JOB.yaml`: run a job file's steps in sandboxes and collect its outputs.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a job file locally in sandboxes.",
        discussion: """
            Each step runs with `/bin/sh -e` in /workspace, in its own sandbox, sharing the job's \
            workspace (inputs are copied in first). Logs stream live with step markers and are \
            saved to OUT/<job>.log; declared outputs are copied to OUT after every step succeeded. \
            The exit status is the job's: 0, the failing step's status, or 124 on timeout; 2 when \
            the job file, profile or host is not usable.
            """)

    @Argument(help: "The job file (YAML).")
    var jobFile: String

    @Option(help: "Directory for outputs and the log (default: ./out/<job name>).")
    var out: String?

    @Flag(help: "Do not stream the log to the terminal (it is still saved).")
    var quiet = false

    @Option(
        name: .customLong("builder-id"),
        help:
            "The runner identity recorded in provenance (default: $AIRLOCK_BUILDER_ID or urn:airlock:runner:<hostname>)."
    )
    var builderID: String?

    @Option(name: .customLong("key-type"), help: "Key type if a signing key must be generated: ed25519 or ecdsa-p256.")
    var keyType: String = "ed25519"

    func run() throws {
        throw ExitCode(execute())
    }

    func execute() -> Int32 {
        do {
            let path = jobFile.hasPrefix("/") ? jobFile : FileManager.default.currentDirectoryPath + "/" + jobFile
            let job = try JobLoader.load(path: path)
            let jobDir = (path as NSString).deletingLastPathComponent
            let profile = try ProfileSearch.load(job.profile, relativeTo: jobDir)
            let outDir =
                out.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
                ?? FileManager.default.currentDirectoryPath + "/out/" + job.name
            let sandbox = try Sandbox.makeDefault()
            defer { sandbox.close() }
            let forwarder = SignalForwarder(sandbox: sandbox)
            defer { withExtendedLifetime(forwarder) {} }
            let secrets = try SecretsSetup.context(state: sandbox.state)
            defer { secrets.transport?.shutdown() }
            SecretsSetup.replay(secrets.context, brokers: secrets.brokers)
            // Sign by default: the key is generated on first use, in the state directory.
            guard let alg = KeyAlgorithm(rawValue: keyType) else {
                throw AirlockError(
                    .usage, "--key-type '\(keyType)' is not a key type", hint: "use ed25519 or ecdsa-p256")
            }
            let pipeline = JobPipeline(
                sandbox: sandbox, secrets: secrets.context,
                attestation: AttestationOptions(
                    keyDirectory: sandbox.state.path + "/keys",
                    builderID: builderID ?? AttestationOptions.defaultBuilderID, keyAlgorithm: alg))
            info("running job '\(job.name)' (\(job.steps.count) step(s), profile '\(profile.name)')")
            let outcome = try pipeline.run(
                JobRequest(
                    job: job, profile: profile, outDir: outDir, console: quiet ? nil : FileHandle.standardOutput))
            let report = outcome.report
            if report.exitCode == 0, let att = outcome.attestation {
                if let k = att.generatedKeyPath {
                    info(
                        "generated a signing key at \(k) (public: \(att.publicKeyPath ?? "")); `airlock keys public` prints it"
                    )
                }
                info(
                    "job '\(job.name)' succeeded; outputs: \(report.outputs.joined(separator: ", ")); log: \(report.logPath)"
                )
                info("provenance: \(att.provenancePath) (key \(att.keyID.prefix(16))…); SBOM: \(att.sbomPath)")
            } else {
                let step = report.failedStep.map { " in step '\(LogFramer.printable($0))'" } ?? ""
                info(
                    "job '\(job.name)' failed\(step): \(report.failureMessage ?? "exit status \(report.exitCode)"); log: \(report.logPath)"
                )
            }
            return report.exitCode
        } catch {
            return report(error)
        }
    }
}

import AirlockCore
import AirlockProfile
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
            info("running job '\(job.name)' (\(job.steps.count) step(s), profile '\(profile.name)')")
            let report = try JobRunner(sandbox: sandbox).run(
                job: job, profile: profile, outDir: outDir, console: quiet ? nil : FileHandle.standardOutput)
            if report.exitCode == 0 {
                info(
                    "job '\(job.name)' succeeded; outputs: \(report.outputs.joined(separator: ", ")); log: \(report.logPath)"
                )
            } else {
                let step = report.failedStep.map { " in step '\($0)'" } ?? ""
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

import AirlockCore
import AirlockJob
import AirlockOS
import AirlockSandbox
import Foundation

/// A job claimed from a spool directory.
struct SpoolJob: AgentJob {
    let spool: SpoolSource
    /// The entry's name in `incoming/`.
    let name: String
    let claimedPath: String
    let claimedAt = Date()
    let id: String
    let partial: String

    init(spool: SpoolSource, name: String, claimedPath: String, token: String) {
        self.spool = spool
        self.name = name
        self.claimedPath = claimedPath
        var base = name
        for ext in [".yaml", ".yml"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
        id = InFlightJournal.fileName(base)
        partial = "\(spool.done)/.\(id).partial-\(token)"
    }

    var record: InFlightRecord {
        InFlightRecord(
            id: id, source: "spool",
            fields: ["name": name, "claimed": claimedPath, "partial": partial], started: claimedAt)
    }

    /// The job file and the directory its relative inputs are taken from. The entry is opened
    /// without following symlinks: a symlink, a fifo, a device or a hard link to some other file
    /// dropped into `incoming/` is refused, and nothing of its contents is echoed.
    func load() throws -> Job {
        var st = stat()
        guard lstat(claimedPath, &st) == 0 else {
            throw AirlockError(
                .missingFile, "spool entry incoming/\(name) vanished after it was claimed",
                hint: "only the agent may move files out of the spool's claimed/ directory")
        }
        let isDir = (st.st_mode & S_IFMT) == S_IFDIR
        let shown = isDir ? "\(spool.root)/incoming/\(name)/job.yaml" : "\(spool.root)/incoming/\(name)"
        guard isDir || (st.st_mode & S_IFMT) == S_IFREG else {
            throw AirlockError(
                .invalidFile,
                "\(shown): a spool job must be a regular file or a directory, not a symlink or special file",
                hint: "write the job file into the spool (then rename it into incoming/); links are never followed")
        }
        let fd: OwnedFD
        do {
            fd =
                isDir
                ? try ConfinedDirectory.open(claimedPath).open("job.yaml", O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
                : try OwnedFD.open(claimedPath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        } catch {
            throw AirlockError(
                .invalidFile, "\(shown): cannot open the job file without following links (\(error))",
                hint: "a directory job needs a regular job.yaml inside it")
        }
        var fst = stat()
        guard fstat(fd.raw, &fst) == 0, (fst.st_mode & S_IFMT) == S_IFREG, fst.st_nlink == 1,
            fst.st_size <= Self.maxJobFileSize
        else {
            throw AirlockError(
                .invalidFile,
                "\(shown): a spool job file must be a regular file of at most \(Self.maxJobFileSize) bytes with no other hard links",
                hint: "write a fresh copy of the job file instead of linking one")
        }
        let bytes = try fd.readAll()
        var job = try JobLoader.parse(yaml: String(decoding: bytes, as: UTF8.self), file: shown)
        // A directory job's inputs sit next to its job.yaml; a bare file's are taken from the spool root.
        job.sourceFile = isDir ? claimedPath + "/job.yaml" : spool.root + "/" + name
        // A bare job's inputs come from the spool root, but never from the spool's own queues
        // (other jobs' files and results).
        if !isDir,
            let i = job.inputs.firstIndex(where: {
                ["incoming", "claimed", "done"].contains(PathSyntax.components($0).first ?? "")
            })
        {
            throw AirlockError(
                .invalidFile, "\(shown): field 'inputs[\(i)]' points into the spool's own queues",
                hint: "put a job's inputs in a job directory (incoming/NAME/job.yaml plus its files)")
        }
        if let why = spool.policy.refusal(for: job) {
            throw AirlockError(
                .invalidFile, "\(shown): \(why)",
                hint: "allow it with the agent's spool_profiles/spool_secrets settings, or change the job")
        }
        return job
    }

    /// The largest spool job file read.
    static let maxJobFileSize = 4 << 20

    func run(executor: JobExecutor, control: JobControl) async -> JobOutcome {
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: claimedPath) }
        let started = Date()
        var result = SpoolResult(
            id: id, job: name, state: "failed", exitCode: nil, message: nil, agent: spool.agentName,
            started: started, finished: started, outputs: [], provenance: nil, sbom: nil, timings: nil)
        var outcome = JobOutcome(state: .failed)
        do {
            try fm.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let job: Job
            do { job = try load() } catch {
                result.state = "invalid"
                result.exitCode = 2
                result.message = "\(error)"
                outcome = JobOutcome(state: .systemFailure, exitCode: 2, message: "\(error)")
                finish(&result, control: control, outcome: &outcome)
                return outcome
            }
            result.job = job.name
            let r = try await executor.execute(
                job: job, outDir: partial, console: nil, control: control, jobID: "spool-\(id)",
                jobProfiles: false)
            let report = r.report
            result.exitCode = report.exitCode
            result.outputs = report.outputs
            result.message = report.failureMessage
            result.provenance = r.attestation.map { ($0.provenancePath as NSString).lastPathComponent }
            result.sbom = r.attestation.map { ($0.sbomPath as NSString).lastPathComponent }
            result.state = report.canceled ? "canceled" : (report.exitCode == 0 ? "success" : "failed")
            outcome = JobOutcome(
                state: report.canceled ? .canceled : (report.exitCode == 0 ? .success : .failed),
                exitCode: report.exitCode, message: report.failureMessage)
        } catch let error as AirlockError where error.code == .invalidFile {
            // A file the job brought (its profile) was rejected: the job is invalid, not the runner.
            result.state = "invalid"
            result.exitCode = 2
            result.message = "\(error)"
            outcome = JobOutcome(state: .systemFailure, exitCode: 2, message: "\(error)")
        } catch {
            result.message = "runner_system_failure: \(error)"
            outcome = JobOutcome(state: .systemFailure, message: "\(error)")
        }
        finish(&result, control: control, outcome: &outcome)
        return outcome
    }

    private func finish(_ result: inout SpoolResult, control: JobControl, outcome: inout JobOutcome) {
        let now = Date()
        result.finished = now
        let setup = control.firstSandboxStart.map { $0.timeIntervalSince(claimedAt) }
        let report = control.lastSandboxExit.map { now.timeIntervalSince($0) }
        result.timings = .init(
            claimToSandboxMs: setup.map { $0 * 1000 }, exitToResultMs: report.map { $0 * 1000 },
            totalMs: now.timeIntervalSince(claimedAt) * 1000)
        spool.publish(result, partial: partial, id: id)
        outcome.setupSeconds = setup
        outcome.reportSeconds = control.lastSandboxExit.map { Date().timeIntervalSince($0) }
    }
}

import AirlockCore
import AirlockJob
import AirlockOS
import AirlockSandbox
import Foundation
import Logging

/// A local spool directory shared by any number of agents:
///
/// ```
/// DIR/incoming/NAME.yaml        a job file (relative inputs are taken from DIR), or
/// DIR/incoming/NAME/job.yaml    a job directory (relative inputs are taken from it)
/// DIR/claimed/…                 jobs being run (moved here atomically by exactly one agent)
/// DIR/done/NAME/                result.json, NAME.log, outputs, provenance and SBOM
/// ```
///
/// Producers should write a job elsewhere on the same file system and `rename(2)` it into
/// `incoming/`, so no agent sees half a file. Claiming is a `rename(2)` too: when several agents
/// race for one job, one wins and the others get ENOENT and move on.
public final class SpoolSource: JobSource, @unchecked Sendable {
    public let kind = "spool"
    public let root: String
    let agentName: String
    let logger: Logger
    /// How often an idle agent looks into `incoming/`.
    let pollInterval: Double
    /// How long one `next()` waits before returning nil.
    let pollWindow: Double
    /// What a spool job may ask for.
    let policy: SpoolPolicy

    public init(
        root: String, agentName: String, logger: Logger, pollInterval: Double = 0.02, pollWindow: Double = 1,
        policy: SpoolPolicy = SpoolPolicy()
    ) throws {
        self.policy = policy
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.agentName = agentName
        self.logger = logger
        self.pollInterval = pollInterval
        self.pollWindow = pollWindow
        for sub in ["incoming", "claimed", "done"] {
            do {
                try FileManager.default.createDirectory(
                    atPath: self.root + "/" + sub, withIntermediateDirectories: true)
            } catch {
                throw AirlockError(
                    .missingFile, "cannot use the spool directory \(self.root): \(error.localizedDescription)",
                    hint: "create it (mkdir -p \(self.root)/incoming) and make it writable by the agent")
            }
        }
    }

    var incoming: String { root + "/incoming" }
    var claimed: String { root + "/claimed" }
    var done: String { root + "/done" }

    public func next() async throws -> (any AgentJob)? {
        let deadline = Date().addingTimeInterval(pollWindow)
        repeat {
            if let job = claimOne() { return job }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        } while Date() < deadline
        return nil
    }

    /// Try the waiting jobs in name order; the first successful rename is ours.
    func claimOne() -> SpoolJob? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: incoming) else { return nil }
        for name in names.sorted() where !name.hasPrefix(".") {
            let token = "\(agentName).\(getpid()).\(randomHex(4))"
            let target = "\(claimed)/\(name).\(token)"
            if rename(incoming + "/" + name, target) == 0 {
                return SpoolJob(spool: self, name: name, claimedPath: target, token: token)
            }
        }
        return nil
    }

    public func recover(_ record: InFlightRecord) async {
        guard let partial = record.fields["partial"], let name = record.fields["name"] else { return }
        let result = SpoolResult(
            id: record.id, job: name, state: "failed", exitCode: nil,
            message:
                "runner_system_failure: the agent (pid \(record.agentPID)) stopped while running this job; it was cleaned up when the agent restarted",
            agent: agentName, started: record.started, finished: Date(), outputs: [], provenance: nil, sbom: nil,
            timings: nil)
        try? FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        let final = publish(result, partial: partial, id: record.id)
        if let claimedPath = record.fields["claimed"] { try? FileManager.default.removeItem(atPath: claimedPath) }
        logger.warning(
            "reported leftover spool job as failed", metadata: ["job": "\(record.id)", "result": "\(final)"])
    }

    /// Write `result.json` into `partial` and move it to `done/<id>` (a free name), atomically.
    @discardableResult
    func publish(_ result: SpoolResult, partial: String, id: String) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.dateEncodingStrategy = .iso8601
        if let data = try? enc.encode(result) {
            try? PrivateFile.createNew(
                partial + "/result.json", contents: Array(data) + [0x0A], mode: 0o644, sync: false)
        }
        var final = "\(done)/\(id)"
        var n = 2
        while rename(partial, final) != 0 {
            guard errno == EEXIST || errno == ENOTEMPTY, n < 10_000 else { break }
            final = "\(done)/\(id)-\(n)"
            n += 1
        }
        return final
    }
}

/// `done/<id>/result.json`.
struct SpoolResult: Codable, Sendable {
    struct Timings: Codable, Sendable {
        /// From the claim to the first sandbox running.
        var claimToSandboxMs: Double?
        /// From the last sandbox exit until this file was written.
        var exitToResultMs: Double?
        var totalMs: Double
    }

    var id: String
    var job: String
    /// `success`, `failed`, `canceled` or `invalid` (the job file, or a profile it brought, was rejected).
    var state: String
    var exitCode: Int32?
    var message: String?
    var agent: String
    var started: Date
    var finished: Date
    var outputs: [String]
    var provenance: String?
    var sbom: String?
    var timings: Timings?
}

/// What the agent lets a spool job choose. Whoever can write `incoming/` decides what runs, but
/// not how it is sandboxed: a spool job never brings its own profile (profiles are looked up
/// only on the agent's search path) and may name only the profiles and secrets listed here.
public struct SpoolPolicy: Sendable {
    /// Profile names a spool job may name.
    public var profiles: Set<String>
    /// Secret sources a spool job may ask for (`local:NAME`, or a bare NAME for `local:NAME`).
    public var secrets: Set<String>

    public init(profiles: Set<String> = ["default"], secrets: Set<String> = []) {
        self.profiles = profiles
        self.secrets = Set(secrets.map { $0.contains(":") ? $0 : "local:" + $0 })
    }

    /// Why `job` may not run from the spool, or nil.
    func refusal(for job: Job) -> String? {
        if !profiles.contains(job.profile) {
            return
                "the job asks for profile '\(job.profile)', which this agent does not allow for spool jobs (allowed: \(profiles.sorted().joined(separator: ", "))); fix: add it to spool_profiles in the agent config, or pass --spool-profile \(job.profile)"
        }
        for (i, s) in job.secrets.enumerated() where !secrets.contains(s.source) {
            return
                "secrets[\(i)] ('\(s.name)') asks for '\(s.source)', which this agent does not allow for spool jobs; fix: add it to spool_secrets in the agent config, or pass --spool-secret \(s.source)"
        }
        return nil
    }
}

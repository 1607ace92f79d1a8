import AirlockCore
import AirlockOS
import Foundation

/// What the agent must know about a running job to clean up after a crash: which source it came
/// from and how to report it failed there. One file per job in `<agent dir>/inflight/`, written
/// (mode 0600, fsync'ed) before the job starts and removed when its result is reported.
///
/// For GitLab jobs this includes the job token: it is valid only while the job runs, and it is
/// what the agent needs to report the job failed after a restart.
public struct InFlightRecord: Codable, Sendable, Equatable {
    public var id: String
    /// `spool` or `gitlab`.
    public var source: String
    public var agentPID: Int32
    public var started: Date
    /// Source-specific fields (spool: `claimed`, `partial`, `done`; gitlab: `url`, `job`, `token`).
    public var fields: [String: String]

    public init(id: String, source: String, fields: [String: String], started: Date = Date()) {
        self.id = id
        self.source = source
        self.agentPID = getpid()
        self.started = started
        self.fields = fields
    }
}

/// The directory of in-flight records.
public struct InFlightJournal: Sendable {
    public let directory: String

    public init(agentDirectory: String) throws {
        directory = agentDirectory + "/inflight"
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AirlockError(
                .sandboxSetup, "cannot create the agent journal directory \(directory): \(error.localizedDescription)",
                hint: "check that the state directory is writable by this user")
        }
    }

    private func path(_ id: String) -> String { directory + "/" + Self.fileName(id) + ".json" }

    static func fileName(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "_" }.prefix(120))
    }

    /// Record a job as running (durably: the file is fsync'ed before this returns).
    public func begin(_ record: InFlightRecord) throws {
        let enc = JSONEncoder()
        enc.dateEncodingStrategy = .iso8601
        let data = try enc.encode(record)
        try PrivateFile.replace(path(record.id), contents: Array(data))
    }

    /// The job's result is reported: forget it.
    public func end(_ id: String) {
        _ = unlink(path(id))
    }

    /// Records left by an agent that is gone.
    public func leftovers() -> [InFlightRecord] {
        let dec = JSONDecoder()
        dec.dateDecodingStrategy = .iso8601
        var out: [InFlightRecord] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        where name.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name),
                (try? JSONStructureScan.check([UInt8](data), name: name, limits: .files)) != nil,
                let r = try? dec.decode(InFlightRecord.self, from: data)
            else {
                _ = unlink(directory + "/" + name)
                continue
            }
            out.append(r)
        }
        return out
    }
}

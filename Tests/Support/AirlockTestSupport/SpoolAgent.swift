import Foundation
import Testing

/// A spool directory and an `airlock agent` process serving it, for integration tests.
public final class SpoolAgent {
    public let state: TestState
    public let spool: String
    public var process: Process?
    public let logPath: String

    public init(state: TestState, spool: String? = nil) {
        self.state = state
        self.spool = spool ?? state.dir + "/spool"
        logPath = state.dir + "/agent-\(UUID().uuidString.prefix(6)).log"
        try? FileManager.default.createDirectory(atPath: self.spool + "/incoming", withIntermediateDirectories: true)
    }

    /// Start `airlock agent --spool` with extra arguments.
    public func start(_ args: [String] = [], name: String = "t1") throws {
        try startAgent(["--spool", spool, "--name", name] + args)
    }

    /// Start `airlock agent` with exactly these arguments.
    public func startAgent(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Host.airlock)
        p.arguments = ["agent"] + args
        p.environment = state.env
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        process = p
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Drop a job: `NAME.yaml`, or a directory with job.yaml and files, moved in atomically.
    public func submit(_ name: String, _ yaml: String, files: [String: String] = [:]) throws {
        let staging = state.dir + "/staging-\(UUID().uuidString.prefix(6))"
        if files.isEmpty {
            try yaml.write(toFile: staging, atomically: false, encoding: .utf8)
            #expect(rename(staging, "\(spool)/incoming/\(name).yaml") == 0)
        } else {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
            try yaml.write(toFile: staging + "/job.yaml", atomically: false, encoding: .utf8)
            for (f, text) in files { try text.write(toFile: staging + "/" + f, atomically: false, encoding: .utf8) }
            #expect(rename(staging, "\(spool)/incoming/\(name)") == 0)
        }
    }

    /// The result of job `id`, waiting up to `timeout` seconds for it.
    public func result(_ id: String, timeout: Double = 60) -> [String: Any]? {
        let path = "\(spool)/done/\(id)/result.json"
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let d = FileManager.default.contents(atPath: path),
                let obj = try? JSONSerialization.jsonObject(with: d) as? [String: Any]
            {
                return obj
            }
            usleep(20_000)
        }
        return nil
    }

    /// Wait until `cond` holds (polling), up to `timeout` seconds.
    @discardableResult
    public static func wait(_ timeout: Double = 30, _ cond: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if cond() { return true }
            usleep(20_000)
        }
        return cond()
    }

    public func signal(_ sig: Int32) { if let p = process { kill(p.processIdentifier, sig) } }

    /// Wait for the agent to exit; returns its status (nil if it did not exit in time).
    public func waitExit(_ timeout: Double = 30) -> Int32? {
        guard let p = process else { return nil }
        guard Self.wait(timeout, { !p.isRunning }) else { return nil }
        return p.terminationStatus
    }

    /// Stop the agent however it is (drain, then kill).
    public func stop() {
        guard let p = process, p.isRunning else { return }
        kill(p.processIdentifier, SIGQUIT)
        if waitExit(20) == nil { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    public var inflight: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: state.dir + "/agents/t1/inflight")) ?? []
    }
}

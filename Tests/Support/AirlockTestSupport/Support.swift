import Foundation
import Testing

// Shared by the integration tests of AirlockSandboxTests and AirlockAgentTests: both drive the
// real `airlock` binary as root and check the host for leftovers.

/// Facts about the test host and helpers to drive the real `airlock` binary.
public enum Host {
    public static let isRoot = geteuid() == 0
    /// Where `swift build` put the binaries (next to the test bundle).
    public static let buildDir: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = (exe as NSString).deletingLastPathComponent
        while !dir.isEmpty && dir != "/" {
            if FileManager.default.isExecutableFile(atPath: dir + "/airlock") { return dir }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return ""
    }()
    public static var airlock: String { buildDir + "/airlock" }
    public static var helper: String {
        ProcessInfo.processInfo.environment["AIRLOCK_HELPER"] ?? buildDir + "/airlock-helper"
    }
    public static let repoRoot: String = {
        // Tests/Support/AirlockTestSupport/Support.swift
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()
    /// The attack probe, compiled by `make test` (or here, on demand).
    public static let probe: String = {
        if let p = ProcessInfo.processInfo.environment["AIRLOCK_PROBE"], FileManager.default.isExecutableFile(atPath: p)
        {
            return p
        }
        let out = NSTemporaryDirectory() + "airlock-probe-\(getpid())"
        _ = try? Run.capture(["/usr/bin/cc", "-O2", "-o", out, repoRoot + "/Tests/Probes/airlock-probe.c"])
        return out
    }()
    public static var canSandbox: Bool { isRoot && FileManager.default.isExecutableFile(atPath: airlock) }
}

/// Gates integration tests on what they need, saying why.
extension Trait where Self == ConditionTrait {
    public static var needsRootSandbox: Self {
        .enabled(if: Host.canSandbox, "needs root (cgroups, uid ranges) and a built `airlock` (run `make test`)")
    }
}

public struct RunResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public final class DataBox: @unchecked Sendable {
    public var data = Data()
    public init() {}
}

public enum Run {
    /// Run a process to completion, capturing output.
    @discardableResult
    public static func capture(
        _ argv: [String], env: [String: String]? = nil, cwd: String? = nil, stdin: FileHandle? = nil,
        extraFDs: Bool = false
    ) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        if let env { p.environment = env }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = stdin ?? FileHandle(forReadingAtPath: "/dev/null")
        try p.run()
        // Drain both pipes concurrently so neither can fill up.
        let errBox = DataBox()
        let g = DispatchGroup()
        g.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile(); g.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        g.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return RunResult(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// A private state directory per test, checked for leftovers afterwards.
public final class TestState {
    public let dir: String
    public init() {
        dir = NSTemporaryDirectory() + "airlock-test-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    public var env: [String: String] {
        var e = ProcessInfo.processInfo.environment
        e["AIRLOCK_STATE_DIR"] = dir
        e["AIRLOCK_HELPER"] = Host.helper
        e["AIRLOCK_PROFILE_PATH"] = Host.repoRoot + "/Profiles"
        e["SECRET_PARENT_VAR"] = "must-not-leak"
        return e
    }

    /// `airlock exec` with the probe bound at /probe.
    public func exec(_ args: [String], probe: Bool = true, options: [String] = [], env extra: [String: String] = [:])
        throws
        -> RunResult
    {
        var argv = [Host.airlock, "exec"] + options
        if probe { argv += ["--bind", "\(Host.probe):/opt/probe/airlock-probe:ro"] }
        argv += ["--"] + args
        return try Run.capture(argv, env: env.merging(extra) { $1 })
    }

    public func probe(_ args: String..., options: [String] = []) throws -> RunResult {
        try exec(["/opt/probe/airlock-probe"] + args, options: options)
    }

    /// Workspaces left in this state directory.
    public var leftoverWorkspaces: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir + "/workspaces")) ?? []
    }
}

/// What a sandbox may leave on the host, checked after each integration test.
public enum Leftovers {
    /// Host processes running under a root-mode sandbox uid (≥ 1,000,000).
    public static func sandboxProcesses() -> [String] {
        var out: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            guard let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n") where line.hasPrefix("Uid:") {
                let f = line.split(separator: "\t")
                if f.count > 1, let uid = Int(f[1]), uid >= 1_000_000 { out.append(entry) }
            }
        }
        return out
    }

    /// Job cgroups still present under Airlock's cgroup directories.
    public static func cgroups() -> [String] {
        var out: [String] = []
        for c in ["memory", "pids", "cpu", "freezer"] {
            let base = "/sys/fs/cgroup/\(c)/airlock"
            for e in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
            where e.hasPrefix("job-") || e.hasPrefix("slot-") {
                out.append("\(base)/\(e)")
            }
        }
        return out
    }

    /// Host mounts mentioning Airlock's paths.
    public static func mounts() -> [String] {
        let text = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.contains("airlock") }.map(String.init)
    }

    /// Fails the test if anything is left behind (processes get a moment to be reaped).
    public static func expectNone(_ state: TestState, sourceLocation: SourceLocation = #_sourceLocation) {
        var procs = sandboxProcesses()
        for _ in 0..<50 where !procs.isEmpty {
            usleep(20_000)
            procs = sandboxProcesses()
        }
        #expect(procs.isEmpty, "sandbox processes left: \(procs)", sourceLocation: sourceLocation)
        #expect(cgroups().isEmpty, "cgroups left: \(cgroups())", sourceLocation: sourceLocation)
        #expect(
            state.leftoverWorkspaces.isEmpty, "workspaces left: \(state.leftoverWorkspaces)",
            sourceLocation: sourceLocation)
        #expect(mounts().isEmpty, "mounts left: \(mounts())", sourceLocation: sourceLocation)
    }
}

/// Reads `handle` until what was read contains `marker` followed by a line end (or EOF): a
/// readiness handshake with a job that prints `marker` once it is where the test needs it.
public func readUntil(_ handle: FileHandle, line marker: String) -> String {
    var text = ""
    while true {
        if let r = text.range(of: marker), text[r.upperBound...].contains("\n") { return text }
        let chunk = handle.availableData
        if chunk.isEmpty { return text }
        text += String(decoding: chunk, as: UTF8.self)
    }
}

import CAirlockShims
import Glibc

/// A running `airlock-helper`, which owns one sandbox.
///
/// Spawned with `posix_spawn` (no Swift runs in the child); the agent keeps the write end of the
/// lifeline pipe, so if the agent dies — even by SIGKILL — the helper kills the sandbox.
public final class HelperProcess: @unchecked Sendable {
    /// How the sandbox ended.
    public struct Outcome: Sendable {
        /// The job's exit code (128+N for signal N); for a setup failure, the helper's code (125).
        public var exitCode: Int32
        /// Set when the sandbox could not be set up, or the command could not be executed.
        public var setupError: HelperReport?
        /// Host pid of the sandbox's init, once it started.
        public var initPID: Int32?
        /// True when the helper reported the sandbox init's exit. That is also the case when the
        /// init failed during setup: check `setupError` to tell the two apart.
        public var jobExited: Bool
    }

    public let pid: pid_t
    /// The helper binary, named in the error when it refuses the config's version.
    public let helperPath: String
    private let reportRead: OwnedFD
    private let lifeline: OwnedFD

    private init(pid: pid_t, helperPath: String, reportRead: OwnedFD, lifeline: OwnedFD) {
        self.pid = pid
        self.helperPath = helperPath
        self.reportRead = reportRead
        self.lifeline = lifeline
    }

    /// Start the helper at `helperPath` for `config`, with `program` installed before exec.
    /// `stdio` are the descriptors that become the job's 0, 1 and 2.
    /// `programFD` may be a shared memfd holding the program (the helper reads it with pread,
    /// so one memfd serves concurrent launches); otherwise one is made from `program`.
    public static func spawn(
        helperPath: String, config: HelperConfig, program: SeccompProgram?, programFD: OwnedFD? = nil,
        stdio: (Int32, Int32, Int32)
    ) throws -> HelperProcess {
        try config.validate()
        return try spawn(
            helperPath: helperPath, encodedConfig: config.encoded(), program: program, programFD: programFD,
            stdio: stdio)
    }

    /// Start the helper with an already encoded config (tests: configs the helper must refuse).
    static func spawn(
        helperPath: String, encodedConfig: [UInt8], program: SeccompProgram?, programFD: OwnedFD? = nil,
        stdio: (Int32, Int32, Int32)
    ) throws -> HelperProcess {
        let configFD = try OwnedFD.memfd("airlock-config", contents: encodedConfig)
        let bpfFD = try programFD ?? OwnedFD.memfd("airlock-bpf", contents: program?.bytes ?? [])
        let report = try OwnedFD.pipe()
        let life = try OwnedFD.pipe()
        var pid: pid_t = 0
        let rc = airlock_spawn_helper(
            helperPath, stdio.0, stdio.1, stdio.2, configFD.raw, bpfFD.raw, report.write.raw,
            life.read.raw, &pid)
        if rc != 0 {
            throw OSError(
                "posix_spawn", helperPath, errno: rc,
                hint: rc == ENOENT
                    ? "the helper binary is missing: run `make build` (or set AIRLOCK_HELPER)" : nil)
        }
        // Only the helper may hold these ends; closing ours makes EOF mean "helper gone".
        report.write.close()
        life.read.close()
        return HelperProcess(pid: pid, helperPath: helperPath, reportRead: report.read, lifeline: life.write)
    }

    /// Send `signal` to the helper; it forwards TERM/INT/HUP/QUIT/USR1/USR2 to the job.
    public func signal(_ signal: Int32) { _ = kill(pid, signal) }

    /// Kill the sandbox at once: the helper SIGKILLs the sandbox's init, which takes every process
    /// of the pid namespace with it, then reaps it and exits as usual (so no zombie is left).
    public func killSandbox() { _ = kill(pid, SIGALRM) }

    /// Last resort when the helper itself does not respond: its death still kills the sandbox
    /// (the init has PDEATHSIG), but the init is then reaped by the host's init.
    public func killHelper() { _ = kill(pid, SIGKILL) }

    /// Block until the helper exits, collecting its reports. Call once.
    public func waitForExit() -> Outcome {
        var bytes: [UInt8] = []
        while let chunk = try? reportRead.read(), !chunk.isEmpty { bytes += chunk }
        reportRead.close()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && airlock_errno() == EINTR {}
        lifeline.close()
        let size = Int(airlock_report_size())
        var outcome = Outcome(exitCode: 0, setupError: nil, initPID: nil, jobExited: false)
        var offset = 0
        while offset + size <= bytes.count {
            if let r = HelperReport(bytes: bytes[offset..<(offset + size)]) {
                switch r.kind {
                case .error where outcome.setupError == nil:
                    outcome.setupError = r.isConfigVersionMismatch ? r.versionMismatch(helperPath: helperPath) : r
                case .error: break
                case .started: outcome.initPID = Int32(truncatingIfNeeded: r.value)
                case .exited: outcome.jobExited = true
                }
            }
            offset += size
        }
        // WIFEXITED / WTERMSIG, spelled out (the C macros are not imported).
        let termsig = status & 0x7f
        outcome.exitCode = termsig == 0 ? (status >> 8) & 0xff : 128 + termsig
        return outcome
    }
}

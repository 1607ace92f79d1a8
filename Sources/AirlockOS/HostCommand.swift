import CAirlockShims
import Glibc

/// The one way Airlock runs a program on the host, outside any sandbox (git for a job's
/// sources, `dpkg-query` and `cc --version` for the toolchain record).
///
/// - Both output streams are drained together (`poll` on stdout and stderr), so a child that
///   fills one pipe while the other is being read cannot block forever.
/// - A `timeout` kills the child's whole process group (it leads a new session, so what it
///   spawned goes too) and the result says so (`timedOut`).
/// - The child gets `/dev/null` as stdin, only descriptors 0–2 (everything else is closed), an
///   empty signal mask with default dispositions, and no controlling terminal to prompt on.
/// - Each stream keeps at most `outputLimit` bytes; the rest is read and dropped (`truncated`),
///   so a chatty child neither blocks nor grows the runner's memory.
///
/// Why not Foundation's `Process` or swift-subprocess: `Process` leaves the draining (and so the
/// deadlock) to each caller and has no timeout; swift-subprocess is async-only, while the
/// toolchain inspection runs synchronously, and this layer stays free of Foundation.
public struct HostCommand: Sendable {
    /// Absolute path of the program.
    public var executable: String
    public var arguments: [String]
    /// The child's whole environment; nil passes this process's environment on.
    public var environment: [String: String]?
    public var workingDirectory: String?
    /// Seconds until the child (and its process group) is killed; nil waits for as long as it runs.
    public var timeout: Double?
    /// Bytes kept per stream.
    public var outputLimit: Int

    public init(
        _ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
        workingDirectory: String? = nil, timeout: Double? = nil, outputLimit: Int = 16 << 20
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    /// How the child ended and what it wrote.
    public struct Result: Sendable {
        /// The exit code, or 128+N when it was killed by signal N.
        public var status: Int32
        /// The signal that killed it, if one did.
        public var signal: Int32?
        /// The timeout expired and the process group was killed.
        public var timedOut: Bool
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// A stream had more than `outputLimit` bytes; the excess was dropped.
        public var truncated: Bool

        /// Exited by itself with status 0.
        public var succeeded: Bool { status == 0 && signal == nil && !timedOut }
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// Run to completion on the calling thread. Throws only when the program cannot be started
    /// (`OSError` naming `posix_spawn` and the path); a non-zero exit is a result.
    public func run() throws -> Result {
        let devnull = try OwnedFD.open("/dev/null", O_RDONLY)
        let (outR, outW) = try OwnedFD.pipe()
        let (errR, errW) = try OwnedFD.pipe()
        let pid = try spawn(stdin: devnull.raw, stdout: outW.raw, stderr: errW.raw)
        devnull.close()
        outW.close()
        errW.close()
        let deadline = timeout.map { Self.monotonicNow() + max(0, $0) }
        var result = Result(status: 0, signal: nil, timedOut: false, stdout: [], stderr: [], truncated: false)
        drain(outR, errR, pid: pid, deadline: deadline, into: &result)
        var status: Int32 = 0
        if result.timedOut || !reap(pid, by: deadline, status: &status) {
            // Killed at the deadline (or it closed its pipes and ran on past it): reap it now.
            if !result.timedOut { kill(-pid, SIGKILL) }
            result.timedOut = true
            _ = retryingEINTR { waitpid(pid, &status, 0) }
        }
        if status & 0x7f == 0 {
            result.status = (status >> 8) & 0xff
        } else {
            result.signal = status & 0x7f
            result.status = 128 + (status & 0x7f)
        }
        return result
    }

    /// `run()` on a thread of its own, so an async caller does not hold a cooperative thread
    /// for as long as the child runs.
    public func run() async throws -> Result {
        try await withCheckedThrowingContinuation { cont in
            startThread { cont.resume(with: Swift.Result { try self.run() }) }
        }
    }

    private func spawn(stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        let env = (environment ?? Self.currentEnvironment()).map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc: Int32
        if let cwd = workingDirectory {
            rc = airlock_spawn_command(executable, argv, envp, cwd, stdin, stdout, stderr, &pid)
        } else {
            rc = airlock_spawn_command(executable, argv, envp, nil, stdin, stdout, stderr, &pid)
        }
        if rc != 0 { throw OSError("posix_spawn", executable, errno: rc) }
        return pid
    }

    /// Read both pipes until both are at EOF, or until the deadline: then kill the process
    /// group and read what is left for at most a second (a descendant that left the group may
    /// still hold a pipe open).
    private func drain(_ out: OwnedFD, _ err: OwnedFD, pid: pid_t, deadline: Double?, into result: inout Result) {
        var open = [true, true]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var readUntil = deadline
        while open[0] || open[1] {
            var fds = [
                pollfd(fd: open[0] ? out.raw : -1, events: Int16(POLLIN), revents: 0),
                pollfd(fd: open[1] ? err.raw : -1, events: Int16(POLLIN), revents: 0),
            ]
            var wait: Int32 = -1
            if let d = readUntil {
                let left = d - Self.monotonicNow()
                if left <= 0 {
                    if result.timedOut { return }
                    result.timedOut = true
                    kill(-pid, SIGKILL)
                    readUntil = Self.monotonicNow() + 1
                    continue
                }
                wait = Int32(min(left * 1000 + 1, 60_000))
            }
            let n = poll(&fds, 2, wait)
            if n < 0 {
                if airlock_errno() == EINTR { continue }
                return
            }
            for i in 0..<2 where open[i] && fds[i].revents != 0 {
                let fd = i == 0 ? out.raw : err.raw
                let got = buffer.withUnsafeMutableBytes { b in retryingEINTR { read(fd, b.baseAddress!, b.count) } }
                if got <= 0 {
                    if got < 0 && airlock_errno() == EAGAIN { continue }
                    open[i] = false
                    continue
                }
                let room = max(0, outputLimit - (i == 0 ? result.stdout.count : result.stderr.count))
                if got > room { result.truncated = true }
                if i == 0 {
                    result.stdout += buffer[0..<min(got, room)]
                } else {
                    result.stderr += buffer[0..<min(got, room)]
                }
            }
        }
    }

    /// Reap `pid` into `status`, waiting until the deadline at most; false when it is still running.
    private func reap(_ pid: pid_t, by deadline: Double?, status: inout Int32) -> Bool {
        guard let deadline else { return retryingEINTR { waitpid(pid, &status, 0) } == pid }
        let pidfd = airlock_pidfd_open(pid)
        if pidfd >= 0 {
            defer { close(pidfd) }
            while true {
                let left = deadline - Self.monotonicNow()
                if left <= 0 { return false }
                var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
                let n = poll(&p, 1, Int32(min(left * 1000 + 1, 60_000)))
                if n > 0 { return retryingEINTR { waitpid(pid, &status, 0) } == pid }
                if n < 0 && airlock_errno() != EINTR { break }
            }
        }
        // No pidfd (Linux < 5.3): look every few milliseconds.
        while Self.monotonicNow() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return true }
            usleep(2_000)
        }
        return false
    }

    static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func currentEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }
}

/// Run `body` on a new detached pthread.
private func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
        &thread, nil,
        { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
    if rc == 0 {
        pthread_detach(thread)
    } else {
        Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
    }
}

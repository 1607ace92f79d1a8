import AirlockCore
import AirlockOS
import Foundation

/// Rewrites a job's output before anyone sees it (the secret masker). Streaming: it may hold
/// back a tail across chunks, which `flush` releases at the end.
public protocol OutputFilter: AnyObject {
    func process(_ chunk: [UInt8]) -> [UInt8]
    func flush() -> [UInt8]
}

/// Drains a job's stdout and stderr pipes on its own thread, into the saved log and the live
/// console (if any), until `limit` bytes have been captured; past that, output is still drained
/// (so the job never blocks) but dropped, and a notice is written once.
///
/// - The saved log marks every line's source (`LogFramer`: `runner| `, `stdout| `, `stderr| `),
///   so job output cannot pass for the runner's lines. Each stream's order is exact; when both
///   have output waiting, stdout is read first (the interleaving is best effort).
/// - The console gets the job's bytes without prefixes, through a `TerminalFilter` per stream
///   (colours kept, every other control dropped), so a job cannot restyle, move or clear the
///   watcher's terminal; runner lines start on a fresh line with the colours reset.
/// - Runner notes (`note(_:)`) land after everything the job wrote so far and never inside a
///   job's unfinished line, in both.
public final class LogSink: @unchecked Sendable {
    /// The write ends to hand to the job as its stdout and stderr.
    public let stdoutWriteEnd: OwnedFD
    public let stderrWriteEnd: OwnedFD

    /// One of the job's output streams.
    private final class JobStream {
        let source: LogSource
        let readEnd: OwnedFD
        /// The secret masker for this stream alone (a secret split across streams is not one).
        let filter: OutputFilter?
        var terminal = TerminalFilter()
        var ended = false
        init(source: LogSource, readEnd: OwnedFD, filter: OutputFilter?) {
            self.source = source
            self.readEnd = readEnd
            self.filter = filter
        }
    }

    private let streams: [JobStream]
    private let file: FileHandle
    private let console: FileHandle?
    private let limit: UInt64
    private let lock = NSLock()
    private var captured: UInt64 = 0
    private var truncated = false
    private var framer = LogFramer()
    /// Whether the console's last job byte was not a newline, and which stream wrote it.
    private var consoleLineOpen = false
    private var consoleLineStream = LogSource.stdout
    private let done = DispatchSemaphore(value: 0)
    /// Serialises reading the pipes, so runner notes land after everything a finished step wrote.
    private let readLock = NSLock()

    /// Bytes captured in the saved log so far (prefixes and runner lines included).
    public var capturedBytes: UInt64 { lock.lock(); defer { lock.unlock() }; return captured }
    /// Whether output was dropped at the limit.
    public var wasTruncated: Bool { lock.lock(); defer { lock.unlock() }; return truncated }

    /// `makeFilter` (e.g. a secret masker) is called once per stream; each filter sees that
    /// stream's bytes before the console and the file.
    public init(
        logPath: String, console: FileHandle?, limit: UInt64, makeFilter: (() -> OutputFilter)? = nil
    ) throws {
        let (outRead, outWrite) = try OwnedFD.pipe()
        let (errRead, errWrite) = try OwnedFD.pipe()
        stdoutWriteEnd = outWrite
        stderrWriteEnd = errWrite
        streams = [
            JobStream(source: .stdout, readEnd: outRead, filter: makeFilter?()),
            JobStream(source: .stderr, readEnd: errRead, filter: makeFilter?()),
        ]
        // One open, no temporary file and rename (FileManager.createFile's way).
        let fd = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OSError("open", logPath) }
        _ = fchmod(fd, 0o644)
        file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.console = console
        self.limit = limit
        for s in streams { _ = fcntl(s.readEnd.raw, F_SETFL, fcntl(s.readEnd.raw, F_GETFL) | O_NONBLOCK) }
        Thread.detachNewThread { [self] in pump() }
    }

    private func pump() {
        while true {
            var fds = streams.map { pollfd(fd: $0.ended ? -1 : $0.readEnd.raw, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), -1)
            readLock.lock()
            for s in streams where !s.ended {
                if drainLocked(s) {
                    s.ended = true
                    if let tail = s.filter?.flush(), !tail.isEmpty { emit(tail, from: s) }
                }
            }
            let allEnded = streams.allSatisfy(\.ended)
            if allEnded { endLocked() }
            readLock.unlock()
            if allEnded { break }
        }
        done.signal()
    }

    /// Process what the stream's pipe holds now (holding `readLock`); true at end of file or on
    /// error.
    private func drainLocked(_ s: JobStream) -> Bool {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(s.readEnd.raw, $0.baseAddress!, 65536) }
            if n > 0 {
                // Past the limit nothing is written: skip the masker too (its CPU is the runner's).
                if wasTruncated { continue }
                let chunk = Array(buf[..<n])
                emit(s.filter.map { $0.process(chunk) } ?? chunk, from: s)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        }
    }

    /// Write runner text (step markers, summaries) after everything the job wrote so far (call
    /// it when no step is running: the pipes then hold all of its output), on lines of its own.
    /// Control characters in `text` are written as escapes (`LogFramer.printable`).
    public func note(_ text: String) {
        readLock.lock()
        defer { readLock.unlock() }
        for s in streams where !s.ended {
            // (Never at end of file here: the sink holds the write ends until `finish`.)
            _ = drainLocked(s)
            if let tail = s.filter?.flush(), !tail.isEmpty { emit(tail, from: s) }
        }
        lock.lock()
        defer { lock.unlock() }
        runnerLocked(text)
    }

    /// Job bytes (already masked) from `s`, into the file and the console, within the limit.
    private func emit(_ bytes: [UInt8], from s: JobStream) {
        lock.lock()
        defer { lock.unlock() }
        if truncated { return }
        let room = limit > captured ? Int(clamping: limit - captured) : 0
        let (framed, consumed) = framer.job(bytes, from: s.source, budget: room)
        captured += UInt64(framed.count)
        file.write(Data(framed))
        if let console {
            let shown = s.terminal.process(bytes[..<consumed])
            if let last = shown.last {
                // The other stream's unfinished line ends first, as in the saved log.
                let head: [UInt8] = consoleLineOpen && consoleLineStream != s.source ? [0x0A] : []
                consoleLineOpen = last != 0x0A
                consoleLineStream = s.source
                console.write(Data(head + shown))
            }
        }
        if consumed < bytes.count {
            truncated = true
            runnerLocked("[airlock] log limit of \(limit) bytes reached; further output is dropped")
        }
    }

    /// Runner lines (holding `lock`): in the file through the framer; on the console after the
    /// job's unfinished escape sequences are dropped, its colours reset and its line ended.
    private func runnerLocked(_ text: String) {
        let framed = framer.runner(text)
        captured += UInt64(framed.count)
        file.write(Data(framed))
        guard let console else { return }
        var out = endConsoleJobOutputLocked()
        for line in LogFramer.lines(text) { out += Array(line.utf8) + [0x0A] }
        console.write(Data(out))
    }

    /// What the console needs after job output before anything else is written: the filters'
    /// tails, an SGR reset if the job left attributes set, a newline if its line is unfinished.
    private func endConsoleJobOutputLocked() -> [UInt8] {
        var out: [UInt8] = []
        for s in streams {
            let tail = s.terminal.finish()
            if let last = tail.last { consoleLineOpen = last != 0x0A }
            out += tail
        }
        if streams.contains(where: { $0.terminal.attributesActive }) {
            out += TerminalFilter.resetAttributes
            for s in streams { s.terminal.attributesWereReset() }
        }
        if consoleLineOpen { out.append(0x0A) }
        consoleLineOpen = false
        return out
    }

    /// Both streams ended (holding `readLock`): end the last lines.
    private func endLocked() {
        lock.lock()
        defer { lock.unlock() }
        file.write(Data(framer.end()))
        if let console {
            let out = endConsoleJobOutputLocked()
            if !out.isEmpty { console.write(Data(out)) }
        }
    }

    /// Close the write ends and wait until everything written has been drained.
    public func finish() {
        stdoutWriteEnd.close()
        stderrWriteEnd.close()
        done.wait()
        try? file.synchronize()
        try? file.close()
    }
}

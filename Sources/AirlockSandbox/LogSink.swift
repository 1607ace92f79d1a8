import AirlockOS
import Foundation

/// Rewrites a job's output before anyone sees it (the secret masker). Streaming: it may hold
/// back a tail across chunks, which `flush` releases at the end.
public protocol OutputFilter: AnyObject {
    func process(_ chunk: [UInt8]) -> [UInt8]
    func flush() -> [UInt8]
}

/// Drains a job's output pipe on its own thread: every chunk goes to the live console (if any)
/// and to the saved log, until `limit` bytes have been captured; past that, output is still
/// drained (so the job never blocks) but dropped, and a notice is written once.
public final class LogSink: @unchecked Sendable {
    public let writeEnd: OwnedFD
    private let readEnd: OwnedFD
    private let file: FileHandle
    private let console: FileHandle?
    private let limit: UInt64
    private let lock = NSLock()
    private var captured: UInt64 = 0
    private var truncated = false
    private let done = DispatchSemaphore(value: 0)
    private let filter: OutputFilter?
    /// Serialises reading the pipe, so runner notes land after everything a finished step wrote.
    private let readLock = NSLock()

    /// Bytes captured in the saved log so far.
    public var capturedBytes: UInt64 { lock.lock(); defer { lock.unlock() }; return captured }
    /// Whether output was dropped at the limit.
    public var wasTruncated: Bool { lock.lock(); defer { lock.unlock() }; return truncated }

    /// `filter` (e.g. the secret masker) sees the job's bytes before the console and the file.
    public init(logPath: String, console: FileHandle?, limit: UInt64, filter: OutputFilter? = nil) throws {
        self.filter = filter
        let (r, w) = try OwnedFD.pipe()
        readEnd = r
        writeEnd = w
        guard FileManager.default.createFile(atPath: logPath, contents: nil, attributes: [.posixPermissions: 0o644]),
            let fh = FileHandle(forWritingAtPath: logPath)
        else {
            throw OSError("open", logPath)
        }
        file = fh
        self.console = console
        self.limit = limit
        _ = fcntl(readEnd.raw, F_SETFL, fcntl(readEnd.raw, F_GETFL) | O_NONBLOCK)
        Thread.detachNewThread { [self] in pump() }
    }

    private func pump() {
        while true {
            var pfd = pollfd(fd: readEnd.raw, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, -1)
            readLock.lock()
            let ended = drainLocked()
            if ended, let tail = filter?.flush(), !tail.isEmpty { emit(tail, fromJob: true) }
            readLock.unlock()
            if ended { break }
        }
        done.signal()
    }

    /// Process what the pipe holds now (holding `readLock`); true at end of file or on error.
    private func drainLocked() -> Bool {
        while true {
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { read(readEnd.raw, $0.baseAddress!, 65536) }
            if n > 0 {
                let chunk = Array(buf[..<n])
                emit(filter.map { $0.process(chunk) } ?? chunk, fromJob: true)
                continue
            }
            if n < 0 && errno == EINTR { continue }
            return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        }
    }

    /// Write runner text (step markers, summaries) into the same stream, after everything the
    /// job wrote so far (call it when no step is running: the pipe then holds all of its output).
    public func note(_ text: String) {
        readLock.lock()
        defer { readLock.unlock() }
        if !drainLocked(), let tail = filter?.flush(), !tail.isEmpty { emit(tail, fromJob: true) }
        emit(Array(text.utf8), fromJob: false)
    }

    private func emit(_ bytes: [UInt8], fromJob: Bool) {
        lock.lock()
        defer { lock.unlock() }
        var out = bytes[...]
        if fromJob {
            if truncated { return }
            let room = limit > captured ? limit - captured : 0
            if UInt64(out.count) > room {
                out = out.prefix(Int(room))
                truncated = true
            }
        }
        captured += UInt64(out.count)
        let data = Data(out)
        file.write(data)
        console?.write(data)
        if fromJob && truncated {
            let notice = Data("\n[airlock] log limit of \(limit) bytes reached; further output is dropped\n".utf8)
            file.write(notice)
            console?.write(notice)
        }
    }

    /// Close the write end and wait until everything written has been drained.
    public func finish() {
        writeEnd.close()
        done.wait()
        try? file.synchronize()
        try? file.close()
    }
}

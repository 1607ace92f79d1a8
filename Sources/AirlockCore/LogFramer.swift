/// Where a line of a saved job log came from.
public enum LogSource: String, Sendable, CaseIterable {
    /// Airlock itself: step markers, results, notices.
    case runner
    /// A step's standard output.
    case stdout
    /// A step's standard error.
    case stderr

    /// The six-letter tag that starts the source's lines in the saved log.
    public var tag: String { rawValue }
}

/// Builds the saved log (`OUT/<job>.log`), in which every line says where it came from.
///
/// Each line is an eight-byte prefix, then the text:
///
/// ```
/// runner| ==> [1/2] compile
/// stdout| cc -o hello hello.c
/// stderr| hello.c:3: warning: unused variable 'x'
/// stdout+ …the rest of a long line
/// ```
///
/// The prefix is the source's tag (`runner`, `stdout`, `stderr`) and `|` for a new line, or
/// `+` for a line that continues the same stream's previous line: one longer than
/// `maxLineLength` bytes (split after the character that crosses the bound, so a line holds at
/// most three bytes more), or one the other stream wrote into the middle of.
/// Lines end at `\n` and only there: the job's bytes are kept as written (other controls,
/// `\r` and escape sequences included), but a `\n` from the job always ends its line, so its
/// next bytes get a prefix of their own and a job can never start a line that looks like the
/// runner's. Runner text is made printable (`printable(_:)`) before it is written.
///
/// Pure and not thread-safe: the caller feeds one stream of events in order.
public struct LogFramer: Sendable {
    /// The longest run of job bytes on one line of the saved log (plus the rest of a UTF-8
    /// character the bound cuts); longer lines continue on a `+` line.
    public let maxLineLength: Int

    /// The stream whose line is open (its last byte was not a newline), if any.
    private var open: LogSource?
    private var openLength = 0
    /// Per stream: whether its next bytes continue a line that was split.
    private var continues: [LogSource: Bool] = [:]

    public init(maxLineLength: Int = 8192) {
        self.maxLineLength = max(maxLineLength, 4)
    }

    /// The prefix's length in bytes.
    public static let prefixLength = 8

    /// The prefix of a line from `source`: `runner| `, `stdout| `, `stdout+ ` and so on.
    public static func prefix(_ source: LogSource, continued: Bool = false) -> [UInt8] {
        Array(source.tag.utf8) + (continued ? [0x2B, 0x20] : [0x7C, 0x20])
    }

    /// Whether a job line is open (the last job bytes did not end with a newline).
    public var lineOpen: Bool { open != nil }

    /// Frames the job's `bytes` from `stream` (`.stdout` or `.stderr`). Stops early rather than
    /// return more than `budget` bytes (counting the newline that will end the last line);
    /// `consumed` says how many of `bytes` were framed.
    public mutating func job(
        _ bytes: [UInt8], from stream: LogSource, budget: Int = .max
    ) -> (bytes: [UInt8], consumed: Int) {
        job(bytes[...], from: stream, budget: budget)
    }

    /// `job(_:from:budget:)` for a slice. (Concrete types, not generics: callers in other
    /// modules would get an unspecialized, much slower loop.)
    public mutating func job(
        _ bytes: ArraySlice<UInt8>, from stream: LogSource, budget: Int = .max
    ) -> (bytes: [UInt8], consumed: Int) {
        precondition(stream != .runner, "runner text goes through runner(_:)")
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count + 2 * Self.prefixLength)
        var i = 0
        // Room for `n` more bytes plus the newline that will end the line.
        func room() -> Int { budget - out.count - 1 }
        while i < input.count {
            if open != stream {
                // Another stream's line is open: it is ended here, and continues on a `+` line.
                var head: [UInt8] = open == nil ? [] : [0x0A]
                head += Self.prefix(stream, continued: continues[stream] ?? false)
                guard room() >= head.count + 1 else { break }
                if let other = open { continues[other] = true }
                out += head
                open = stream
                openLength = 0
            } else if openLength >= maxLineLength && input[i] != 0x0A
                && ((input[i] & 0xC0) != 0x80 || openLength >= maxLineLength + 3)
            {
                let head = [0x0A] + Self.prefix(stream, continued: true)
                guard room() >= head.count + 1 else { break }
                out += head
                openLength = 0
            }
            // Up to the newline, the line's bound (a character the bound cuts is finished on
            // this line, so the split does not depend on how the bytes were chunked) or the budget.
            let lineRoom = maxLineLength - openLength
            let limit = min(lineRoom > 0 ? lineRoom : 1, room(), input.count - i)
            guard limit > 0 else { break }
            var n = limit
            var newline = false
            if let nl = input[i..<(i + limit)].firstIndex(of: 0x0A) {
                n = nl - i + 1
                newline = true
            }
            if !newline && n == room() && i + n < input.count {
                // Cut by the budget: the log ends here, so end it on a character boundary.
                var back = 0
                while back < 3 && back < n && (input[i + n - back] & 0xC0) == 0x80 { back += 1 }
                if back < n && (input[i + n - back] & 0xC0) != 0x80 { n -= back }
            }
            guard n > 0 else { break }
            out += input[i..<(i + n)]
            i += n
            if newline {
                open = nil
                openLength = 0
                continues[stream] = false
            } else {
                openLength += n
            }
        }
        return (out, i)
    }

    /// Frames runner text: each of its lines (made printable) becomes a `runner| ` line,
    /// starting on a new line if a job line was open. Ends every open line: job output after
    /// a runner line starts a new line.
    public mutating func runner(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        if open != nil { out.append(0x0A) }
        open = nil
        openLength = 0
        continues = [:]
        for line in Self.lines(text) {
            out += Self.prefix(.runner)
            out += Array(line.utf8)
            out.append(0x0A)
        }
        return out
    }

    /// Ends the log: a newline if a job line is still open.
    public mutating func end() -> [UInt8] {
        defer {
            open = nil
            openLength = 0
            continues = [:]
        }
        return open != nil ? [0x0A] : []
    }

    /// The lines of runner text as they are written: split at `\n` (one trailing `\n` ends
    /// the text, it does not add an empty line), each made printable.
    public static func lines(_ text: String) -> [String] {
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false)
        if parts.count > 1 && parts.last?.isEmpty == true { parts.removeLast() }
        return parts.map { printable(String($0)) }
    }

    /// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\e`,
    /// `\u{9B}`, …), and bidirectional overrides and isolates too: runner text quotes names a
    /// job chose (step names), and these must not break a line or restyle the terminal.
    public static func printable(_ text: String) -> String {
        var out = ""
        for s in text.unicodeScalars {
            switch s.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x1B: out += "\\e"
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029:
                out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out
    }
}

/// One line of a saved log, as `LogFramer` wrote it.
public struct LogLine: Sendable, Equatable {
    public var source: LogSource
    /// Whether the line continues the same stream's previous line (`+`).
    public var continued: Bool
    /// The text after the prefix (without the newline).
    public var text: Substring

    /// Parses one line (without its newline); nil if it has no valid prefix.
    public init?(_ line: Substring) {
        let u = line.utf8
        guard u.count >= LogFramer.prefixLength else { return nil }
        let tagEnd = u.index(u.startIndex, offsetBy: 6)
        guard let source = LogSource(rawValue: String(line[line.startIndex..<tagEnd])) else { return nil }
        let mark = u[tagEnd]
        guard mark == 0x7C || mark == 0x2B, u[u.index(after: tagEnd)] == 0x20 else { return nil }
        guard !(source == .runner && mark == 0x2B) else { return nil }
        self.source = source
        continued = mark == 0x2B
        text = line[u.index(tagEnd, offsetBy: 2)...]
    }

    /// Parses a whole saved log; a line without a valid prefix is returned as nil.
    public static func parse(_ log: String) -> [LogLine?] {
        // Split at the newline byte: a `\r\n` from the job is one Character to `String`.
        var lines = log.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            log[$0.startIndex..<$0.endIndex]
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        return lines.map { LogLine($0) }
    }
}

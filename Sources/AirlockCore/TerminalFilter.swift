/// Makes a job's output safe to show on someone's terminal: colours stay, control stays out.
///
/// A streaming filter over bytes (feed chunks in order to `process(_:)`, call `finish()` at the
/// end of the stream). What it lets through, on a UTF-8 terminal:
///
/// - printable text, validated as UTF-8 (an invalid byte becomes U+FFFD, so a lone 8-bit C1
///   control such as `0x9B`, the one-byte CSI, never reaches the terminal);
/// - `\n`, `\t` and `\r` (progress bars redraw their own line with `\r`; the runner's own lines
///   always start on a fresh line and end with `\n`, and nothing here moves the cursor up, so a
///   `\r` only ever returns to the start of the job's own current line);
/// - SGR sequences (`ESC [ … m`: colours, bold, underline, …) without conceal (`8`), which would
///   hide text; the rest of such a sequence is kept.
///
/// What it drops: every other CSI sequence (cursor movement, erase, scroll regions, modes,
/// private `ESC [ ? …`, `ESC [ > … m`), OSC strings (`ESC ] … BEL` or `ESC ] … ESC \`: window
/// title, clipboard, hyperlinks), DCS, SOS, PM and APC strings, every other escape sequence
/// (`ESC 7`, `ESC c`, `ESC ( 0`, `ESC # 8`, …), the C0 controls other than the three above,
/// DEL, the C1 controls U+0080–U+009F and the bidirectional overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069), which reorder what a watcher reads.
///
/// Memory is bounded: an escape sequence is held back only until it is complete, at most
/// `maxSequenceLength` bytes (a longer one is dropped); the contents of OSC and other strings
/// are never held, and after `maxStringLength` bytes without a terminator the filter gives up
/// on the string and shows what follows as text, so a job cannot swallow its later output.
/// The filter never emits an escape sequence it did not complete and check itself, so the
/// terminal is back in its ground state after every chunk.
public struct TerminalFilter: Sendable {
    /// The longest CSI sequence held back; longer ones are dropped.
    public static let maxSequenceLength = 256
    /// How many bytes of an unterminated OSC/DCS/SOS/PM/APC string are dropped before the rest
    /// is shown as text.
    public static let maxStringLength = 4096

    private enum State: Sendable {
        case ground
        /// After ESC.
        case escape
        /// After ESC and one or more intermediate bytes (0x20–0x2F).
        case escapeIntermediate
        /// Inside `ESC [`; `sequence` holds the parameter and intermediate bytes.
        case csi
        /// Inside a CSI that is too long or malformed: dropped up to its final byte.
        case csiIgnore
        /// Inside an OSC, DCS, SOS, PM or APC string.
        case string
        /// ESC inside a string (`ESC \` ends it).
        case stringEscape
        /// 0xC2 inside a string (`0xC2 0x9C`, U+009C, ends it).
        case stringC2
    }

    private var state = State.ground
    private var sequence: [UInt8] = []
    private var stringLength = 0
    /// A UTF-8 character being collected in the ground state: its lead byte, its value so far,
    /// how many bytes were seen and how many it needs.
    private var pendingLead: UInt8 = 0
    private var pendingScalar: UInt32 = 0
    private var pendingCount = 0
    private var pendingNeed = 0
    /// Whether an SGR attribute other than reset was let through and not reset since.
    public private(set) var attributesActive = false

    public init() {}

    /// Bytes held back (an incomplete escape sequence or UTF-8 character); never more than
    /// `maxSequenceLength`.
    public var heldByteCount: Int { sequence.count + pendingCount }

    /// Filters the next chunk of the stream; returns what is safe to show so far.
    public mutating func process(_ chunk: [UInt8]) -> [UInt8] { process(chunk[...]) }

    /// Filters the next chunk of the stream; returns what is safe to show so far.
    /// (Concrete types, not generics: callers in other modules would get an unspecialized,
    /// many times slower loop.)
    public mutating func process(_ chunk: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(chunk.count)
        chunk.withUnsafeBufferPointer { buf in
            var i = 0
            while i < buf.count {
                if case .ground = state, pendingNeed == 0 {
                    // The common case: a run of printable ASCII (and \n, \t, \r), copied at once.
                    var j = i
                    while j < buf.count, Self.isPlain(buf[j]) { j += 1 }
                    if j > i {
                        out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<j]))
                        i = j
                        continue
                    }
                }
                step(buf[i], into: &out)
                i += 1
            }
        }
        return out
    }

    /// Ends the stream: an incomplete escape sequence is dropped, an incomplete UTF-8
    /// character becomes U+FFFD. The filter is then back in its initial state (except
    /// `attributesActive`, which says whether the terminal still needs an SGR reset).
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        if pendingCount > 0 { out += Self.replacement }
        pendingCount = 0
        pendingNeed = 0
        sequence.removeAll()
        stringLength = 0
        state = .ground
        return out
    }

    /// Records that the caller reset the terminal's attributes (e.g. wrote `ESC [ 0 m`).
    public mutating func attributesWereReset() { attributesActive = false }

    /// The SGR sequence that resets all attributes.
    public static let resetAttributes: [UInt8] = [0x1B, 0x5B, 0x30, 0x6D]
    static let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

    private static let esc: UInt8 = 0x1B
    private static let can: UInt8 = 0x18
    private static let sub: UInt8 = 0x1A
    private static let bel: UInt8 = 0x07

    private mutating func step(_ b: UInt8, into out: inout [UInt8]) {
        switch state {
        case .ground:
            ground(b, into: &out)
        case .escape:
            switch b {
            case 0x5B:  // [
                state = .csi
                sequence.removeAll(keepingCapacity: true)
            case 0x5D, 0x50, 0x58, 0x5E, 0x5F:  // ] P X ^ _ : OSC, DCS, SOS, PM, APC
                state = .string
                stringLength = 0
            case 0x20...0x2F:
                state = .escapeIntermediate
                stringLength = 1
            case 0x30...0x7E:
                state = .ground  // a two-byte escape sequence (ESC 7, ESC c, ESC M, …): dropped
            case Self.esc:
                break
            case Self.can, Self.sub:
                state = .ground
            default:
                // Not an escape sequence after all: the ESC is dropped, the byte is text or control.
                state = .ground
                ground(b, into: &out)
            }
        case .escapeIntermediate:
            switch b {
            case 0x20...0x2F:
                stringLength += 1
                if stringLength > Self.maxSequenceLength { state = .ground }
            case 0x30...0x7E, Self.can, Self.sub:
                state = .ground
            case Self.esc:
                state = .escape
            default:
                state = .ground
                ground(b, into: &out)
            }
        case .csi:
            switch b {
            case 0x20...0x3F:
                sequence.append(b)
                if sequence.count > Self.maxSequenceLength {
                    sequence.removeAll(keepingCapacity: true)
                    state = .csiIgnore
                }
            case 0x40...0x7E:
                if b == 0x6D { sgr(into: &out) }  // m
                sequence.removeAll(keepingCapacity: true)
                state = .ground
            case Self.esc:
                sequence.removeAll(keepingCapacity: true)
                state = .escape
            case Self.can, Self.sub:
                sequence.removeAll(keepingCapacity: true)
                state = .ground
            default:
                // A control or non-ASCII byte inside the sequence: drop the sequence and treat
                // the byte as if the sequence had not started (the terminal never saw its ESC).
                sequence.removeAll(keepingCapacity: true)
                state = .ground
                ground(b, into: &out)
            }
        case .csiIgnore:
            switch b {
            case 0x20...0x3F: break
            case 0x40...0x7E, Self.can, Self.sub: state = .ground
            case Self.esc: state = .escape
            default:
                state = .ground
                ground(b, into: &out)
            }
        case .string, .stringEscape, .stringC2:
            stringByte(b, into: &out)
        }
    }

    private mutating func stringByte(_ b: UInt8, into out: inout [UInt8]) {
        let previous = state
        state = .string
        switch (previous, b) {
        case (.stringEscape, 0x5C):  // ESC \ (ST)
            state = .ground
            return
        case (.stringEscape, _):
            // ESC ends the string and starts a new escape sequence (as xterm does).
            state = .escape
            step(b, into: &out)
            return
        case (.stringC2, 0x9C):  // U+009C (ST)
            state = .ground
            return
        default: break
        }
        switch b {
        case Self.bel, Self.can, Self.sub:
            state = .ground
            return
        case Self.esc: state = .stringEscape
        case 0xC2: state = .stringC2
        default: break
        }
        stringLength += 1
        if stringLength > Self.maxStringLength {
            // Give up on a string that never ends: what follows is shown as text (its opener
            // was dropped, so the terminal treats it as text too).
            state = .ground
            stringLength = 0
        }
    }

    private mutating func ground(_ b: UInt8, into out: inout [UInt8]) {
        if pendingNeed > 0 {
            if Self.continues(lead: pendingLead, seen: pendingCount, with: b) {
                pendingScalar = pendingScalar << 6 | UInt32(b & 0x3F)
                pendingCount += 1
                if pendingCount == pendingNeed { character(into: &out) }
                return
            }
            // An incomplete character: replaced, and this byte starts afresh.
            out += Self.replacement
            pendingCount = 0
            pendingNeed = 0
        }
        switch b {
        case 0x0A, 0x09, 0x0D:
            out.append(b)
        case Self.esc:
            state = .escape
        case 0x00...0x1F, 0x7F:
            break  // other C0 controls and DEL: dropped
        case 0x20...0x7E:
            out.append(b)
        case 0xC2...0xDF:
            begin(b, need: 2, bits: b & 0x1F)
        case 0xE0...0xEF:
            begin(b, need: 3, bits: b & 0x0F)
        case 0xF0...0xF4:
            begin(b, need: 4, bits: b & 0x07)
        default:
            out += Self.replacement  // a continuation byte without a lead (incl. 8-bit C1), or never valid
        }
    }

    private static func isPlain(_ b: UInt8) -> Bool {
        (b >= 0x20 && b < 0x7F) || b == 0x0A || b == 0x09 || b == 0x0D
    }

    private mutating func begin(_ lead: UInt8, need: Int, bits: UInt8) {
        pendingLead = lead
        pendingScalar = UInt32(bits)
        pendingCount = 1
        pendingNeed = need
    }

    /// Whether `b` is a valid next byte of the UTF-8 character that began with `lead`, after
    /// `seen` bytes (no overlong forms, no surrogates, nothing above U+10FFFF).
    private static func continues(lead: UInt8, seen: Int, with b: UInt8) -> Bool {
        guard (0x80...0xBF).contains(b) else { return false }
        guard seen == 1 else { return true }
        switch lead {
        case 0xE0: return b >= 0xA0
        case 0xED: return b <= 0x9F
        case 0xF0: return b >= 0x90
        case 0xF4: return b <= 0x8F
        default: return true
        }
    }

    /// A complete UTF-8 character in `pendingScalar`: shown unless it is a control. (Validated
    /// UTF-8 has one encoding per scalar, so re-encoding gives back the job's bytes.)
    private mutating func character(into out: inout [UInt8]) {
        let s = pendingScalar
        let hidden = (0x80...0x9F).contains(s) || (0x202A...0x202E).contains(s) || (0x2066...0x2069).contains(s)
        if !hidden {
            // (Appended byte by byte: an array literal here would be an allocation per character.)
            switch pendingNeed {
            case 2:
                out.append(UInt8(0xC0 | s >> 6))
            case 3:
                out.append(UInt8(0xE0 | s >> 12))
                out.append(UInt8(0x80 | s >> 6 & 0x3F))
            default:
                out.append(UInt8(0xF0 | s >> 18))
                out.append(UInt8(0x80 | s >> 12 & 0x3F))
                out.append(UInt8(0x80 | s >> 6 & 0x3F))
            }
            out.append(UInt8(0x80 | s & 0x3F))
        }
        pendingCount = 0
        pendingNeed = 0
    }

    /// A complete `ESC [ … m` in `sequence`: re-emitted without conceal, or dropped when it is
    /// not a plain SGR (private markers, intermediates) or nothing is left of it.
    private mutating func sgr(into out: inout [UInt8]) {
        guard sequence.allSatisfy({ (0x30...0x3B).contains($0) }) else { return }  // digits ; :
        if !sequence.contains(0x38) {
            // No digit 8 anywhere, so no conceal: kept as it is. (Attributes count as active
            // unless every parameter is 0; a needless reset later does no harm.)
            out.append(Self.esc)
            out.append(0x5B)
            out.append(contentsOf: sequence)
            out.append(0x6D)
            attributesActive = sequence.contains { (0x31...0x39).contains($0) }
            return
        }
        let fields = sequence.split(separator: 0x3B, omittingEmptySubsequences: false)
        var kept: [ArraySlice<UInt8>] = []
        var active = attributesActive
        var i = 0
        fieldLoop: while i < fields.count {
            let field = fields[i]
            let head = field.split(separator: 0x3A, maxSplits: 1, omittingEmptySubsequences: false).first ?? field[...]
            guard let value = Self.number(head) else { break }  // absurdly long: drop the rest
            switch value {
            case 8:
                break  // conceal
            case 38, 48, 58:
                if field.count != head.count {  // the `:` form carries its colour in the field
                    kept.append(field)
                    active = true
                    i += 1
                    continue
                }
                // An extended colour in the `;` form: 5;N or 2;R;G;B follow and are colour
                // values, not attributes. Another selector: stop, dropping the rest.
                let selector = i + 1 < fields.count ? Self.number(fields[i + 1]) : nil
                let take: Int
                switch selector {
                case 5: take = 3
                case 2: take = 5
                case nil where i + 1 >= fields.count: take = 1
                default: break fieldLoop
                }
                let end = min(i + take, fields.count)
                kept += fields[i..<end]
                active = true
                i = end
                continue
            case 0:
                kept.append(field)
                active = false
            default:
                kept.append(field)
                active = true
            }
            i += 1
        }
        guard !kept.isEmpty else { return }
        out += [Self.esc, 0x5B]
        for (n, f) in kept.enumerated() {
            if n > 0 { out.append(0x3B) }
            out += f
        }
        out.append(0x6D)
        attributesActive = active
    }

    /// The decimal value of an SGR parameter (empty is 0); nil if it has more than 9 digits or
    /// anything but digits.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard digits.count <= 9 else { return nil }
        var v = 0
        for d in digits {
            guard (0x30...0x39).contains(d) else { return nil }
            v = v * 10 + Int(d - 0x30)
        }
        return v
    }
}

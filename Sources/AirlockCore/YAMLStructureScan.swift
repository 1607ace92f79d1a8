/// One pass over YAML text that measures what libyaml would build, before it builds it: the
/// nesting depth and the number of nodes with every alias expanded. It throws at the first point
/// beyond a `StructureLimits`, naming the line and column.
///
/// The scan follows libyaml's scanner (the one Yams embeds) token by token: the same rules for
/// where a token starts, for comments, quoted, plain and block scalars, for flow levels, block
/// indentation and simple keys. It must, because text it mistook for a string could hide
/// brackets from it. It does not validate: after a syntax error libyaml stops, and whatever the
/// scan concludes past that point at most changes which error is reported.
///
/// Counting is deliberately generous: every `-`, `?`, `:` and flow-mapping entry counts the
/// empty nodes it may stand for. One level is counted late: the mapping a simple key opens (`[[a]]: b`, `[k: v]`) counts
/// from its `:`, so a key's own content may sit one level deeper per enclosing pending key (at
/// most about twice the limit). Both stay far from what breaks a parser: the stack gives out at
/// thousands of levels, the CPU at millions of nodes.
struct YAMLStructureScan {
    /// A block collection opened by indentation.
    struct BlockLevel {
        var indent: Int
        var isMapping: Bool
        var start: Int
        var anchor: String?
        /// A sequence written at its mapping's own indentation (`key:\n- a`), open.
        var indentless: (start: Int, anchor: String?)?
    }

    /// A `[` or `{` level.
    struct FlowLevel {
        var isMapping: Bool
        var start: Int
        var anchor: String?
        /// A single-pair mapping inside a flow sequence (`[a: b]`), open.
        var pairOpen = false
    }

    /// Where a simple key (`key:`) could start, per flow level, as libyaml tracks it.
    struct SimpleKey {
        var line: Int
        var index: Int
        var column: Int
        /// Nodes counted before the key, and an anchor written on an earlier line that would
        /// belong to the mapping this key starts (`&a\nkey: v`).
        var startCount: Int
        var carried: String?
    }

    let bytes: [UInt8]
    let file: String
    let limits: StructureLimits

    var i = 0
    /// 1-based line; 0-based column and character index, as libyaml counts.
    var line = 1
    var column = 0
    var index = 0

    var indent = -1
    var blocks: [BlockLevel] = []
    var flows: [FlowLevel] = []
    var keys: [SimpleKey?] = [nil]
    var simpleKeyAllowed = true

    var depth = 0
    var count = 0
    var anchors: [String: Int] = [:]
    /// An anchor, and whether any property (anchor or tag), waits for its node.
    var pending: String?
    var pendingProperty = false

    init(_ text: String, file: String, limits: StructureLimits) {
        bytes = Array(text.utf8)
        self.file = file
        self.limits = limits
    }

    /// Throws `AirlockError(.invalidFile)` when `text` is over a limit.
    static func check(_ text: String, file: String, limits: StructureLimits) throws {
        var scan = YAMLStructureScan(text, file: file, limits: limits)
        if scan.bytes.count > limits.maxBytes {
            throw limits.tooLarge(
                file: file, at: textPosition(of: limits.maxBytes, in: scan.bytes))
        }
        try scan.run()
    }

    // MARK: The token loop (libyaml's fetch_next_token)

    mutating func run() throws {
        if peek(0) == 0xEF && peek(1) == 0xBB && peek(2) == 0xBF { i = 3 }
        while true {
            skipToNextToken()
            staleKeys()
            try unroll(to: column)
            let c = peek(0)
            if c == 0 { break }
            if column == 0 && c == UInt8(ascii: "%") {
                try documentBoundary()
                while !isBreakOrEnd(0) { advance() }
                continue
            }
            if column == 0 && isDocumentIndicator() {
                try documentBoundary()
                advance(3)
                continue
            }
            try fetchToken(c)
        }
        try unroll(to: -1)
        emptyForPending()
        try node(0)
    }

    mutating func fetchToken(_ c: UInt8) throws {
        let inFlow = !flows.isEmpty
        switch c {
        case UInt8(ascii: "["), UInt8(ascii: "{"): try flowStart(isMapping: c == UInt8(ascii: "{"))
        case UInt8(ascii: "]"), UInt8(ascii: "}"): try flowEnd()
        case UInt8(ascii: ","):
            keys[keys.count - 1] = nil
            emptyForPending()
            if !flows.isEmpty { closePair() }
            if flows.last?.isMapping == true { try node(1) }  // `{a, b}`: a value left empty
            simpleKeyAllowed = true
            advance()
        case UInt8(ascii: "-") where isBlankOrEnd(1): try blockEntry()
        case UInt8(ascii: "?") where inFlow || isBlankOrEnd(1): try explicitKey()
        case UInt8(ascii: ":") where inFlow || isBlankOrEnd(1): try value()
        case UInt8(ascii: "*"), UInt8(ascii: "&"): try anchorOrAlias(isAlias: c == UInt8(ascii: "*"))
        case UInt8(ascii: "!"):
            saveKey()
            simpleKeyAllowed = false
            pendingProperty = true
            skipTag()
        case UInt8(ascii: "|") where !inFlow, UInt8(ascii: ">") where !inFlow:
            keys[keys.count - 1] = nil
            simpleKeyAllowed = true
            try scalar()
            skipBlockScalar()
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            saveKey()
            simpleKeyAllowed = false
            try scalar()
            skipQuoted(single: c == UInt8(ascii: "'"))
        default:
            if startsPlainScalar(c) {
                saveKey()
                simpleKeyAllowed = false
                try scalar()
                skipPlain()
            } else {
                advance()  // libyaml stops here: "found character that cannot start any token"
            }
        }
    }

    /// libyaml's rule for the first character of a plain scalar.
    func startsPlainScalar(_ c: UInt8) -> Bool {
        if isBlankOrEnd(0) { return false }
        if !"-?:,[]{}#&*!|>'\"%@`".utf8.contains(c) { return true }
        if c == UInt8(ascii: "-") { return !isBlank(1) }
        return flows.isEmpty && (c == UInt8(ascii: "?") || c == UInt8(ascii: ":")) && !isBlankOrEnd(1)
    }

    // MARK: Indicators

    mutating func flowStart(isMapping: Bool) throws {
        saveKey()
        let anchor = takePending()
        try open(line: line, column: column)
        flows.append(FlowLevel(isMapping: isMapping, start: count - 1, anchor: anchor))
        keys.append(nil)
        simpleKeyAllowed = true
        advance()
    }

    mutating func flowEnd() throws {
        keys[keys.count - 1] = nil
        emptyForPending()
        if flows.last?.isMapping == true { try node(1) }
        if !flows.isEmpty {
            closePair()
            let level = flows.removeLast()
            keys.removeLast()
            depth -= 1
            register(level.anchor, since: level.start)
        }
        simpleKeyAllowed = false
        advance()
    }

    mutating func blockEntry() throws {
        if flows.isEmpty {
            if indent < column {
                try roll(at: column, isMapping: false, anchor: takePending(), start: count)
            } else if var top = blocks.last, top.isMapping, top.indent == column, top.indentless == nil {
                try open(line: line, column: column)
                top.indentless = (count - 1, takePending())
                blocks[blocks.count - 1] = top
            }
        }
        emptyForPending()
        keys[keys.count - 1] = nil
        simpleKeyAllowed = true
        try node(1)
        advance()
    }

    mutating func explicitKey() throws {
        if flows.isEmpty {
            if indent < column {
                try roll(at: column, isMapping: true, anchor: takePending(), start: count)
            } else {
                endIndentless(at: column)
            }
        } else {
            try openPair()
        }
        emptyForPending()
        keys[keys.count - 1] = nil
        simpleKeyAllowed = flows.isEmpty
        try node(2)
        advance()
    }

    mutating func value() throws {
        emptyForPending()
        if let key = keys[keys.count - 1] {
            if flows.isEmpty {
                if indent < key.column {
                    try roll(at: key.column, isMapping: true, anchor: key.carried, start: key.startCount)
                } else {
                    endIndentless(at: key.column)
                }
            } else {
                try openPair()
            }
            keys[keys.count - 1] = nil
            simpleKeyAllowed = false
            try node(2)  // the key may be only an anchor or a tag (an empty node), the value empty
        } else {
            if flows.isEmpty {
                if indent < column {
                    try roll(at: column, isMapping: true, anchor: nil, start: count)
                } else {
                    endIndentless(at: column)
                }
            }
            simpleKeyAllowed = flows.isEmpty
            try node(2)
        }
        advance()
    }

    mutating func anchorOrAlias(isAlias: Bool) throws {
        saveKey()
        simpleKeyAllowed = false
        let (startLine, startColumn) = (line, column + 1)
        advance()
        var name: [UInt8] = []
        while isAnchorCharacter(peek(0)) {
            name.append(peek(0))
            advance()
        }
        let text = String(decoding: name, as: UTF8.self)
        if isAlias {
            _ = takePending()
            count += anchors[text] ?? 1
            if count > limits.maxNodes {
                throw limits.tooManyNodes(file: file, line: startLine, column: startColumn, alias: text)
            }
        } else {
            emptyForPending()
            pending = text
            pendingProperty = true
        }
    }

    mutating func documentBoundary() throws {
        try unroll(to: -1)
        keys[keys.count - 1] = nil
        emptyForPending()
        simpleKeyAllowed = false
    }

    // MARK: Levels, nodes and anchors

    /// Counts `n` nodes, throwing beyond the node limit.
    mutating func node(_ n: Int) throws {
        count += n
        if count > limits.maxNodes {
            throw limits.tooManyNodes(file: file, line: line, column: column + 1)
        }
    }

    /// One more level of nesting, which is one more node.
    mutating func open(line: Int, column: Int) throws {
        depth += 1
        if depth > limits.maxDepth { throw limits.tooDeep(file: file, line: line, column: column + 1) }
        try node(1)
    }

    /// A block collection starting at `column` (libyaml's roll_indent).
    mutating func roll(at column: Int, isMapping: Bool, anchor: String?, start: Int) throws {
        try open(line: line, column: column)
        blocks.append(BlockLevel(indent: column, isMapping: isMapping, start: start, anchor: anchor))
        indent = column
    }

    /// Closes every block collection indented deeper than `column` (libyaml's unroll_indent).
    mutating func unroll(to column: Int) throws {
        guard flows.isEmpty else { return }  // libyaml keeps indentation inside [ ] and { }
        while indent > column, let level = blocks.popLast() {
            emptyForPending()
            if let open = level.indentless {
                depth -= 1
                register(open.anchor, since: open.start)
            }
            depth -= 1
            register(level.anchor, since: level.start)
            indent = blocks.last?.indent ?? -1
        }
    }

    mutating func endIndentless(at column: Int) {
        guard var top = blocks.last, top.indent == column, let open = top.indentless else { return }
        depth -= 1
        register(open.anchor, since: open.start)
        top.indentless = nil
        blocks[blocks.count - 1] = top
    }

    mutating func openPair() throws {
        guard var top = flows.last, !top.isMapping, !top.pairOpen else { return }
        try open(line: line, column: column)
        top.pairOpen = true
        flows[flows.count - 1] = top
    }

    mutating func closePair() {
        guard flows.last?.pairOpen == true else { return }
        flows[flows.count - 1].pairOpen = false
        depth -= 1
    }

    /// A scalar: one node, which takes a pending anchor.
    mutating func scalar() throws {
        if let name = takePending() { anchors[name] = 1 }
        try node(1)
    }

    /// An anchor or tag followed by no node stands for an empty scalar.
    mutating func emptyForPending() {
        if pendingProperty { count += 1 }
        if let name = takePending() { anchors[name] = 1 }
    }

    mutating func takePending() -> String? {
        defer {
            pending = nil
            pendingProperty = false
        }
        return pending
    }

    mutating func register(_ anchor: String?, since start: Int) {
        if let anchor { anchors[anchor] = count - start }
    }

    /// libyaml's save_simple_key: the next token may be a key.
    mutating func saveKey() {
        guard simpleKeyAllowed else { return }
        keys[keys.count - 1] = SimpleKey(
            line: line, index: index, column: column, startCount: count, carried: pending)
    }

    /// A simple key is on one line and shorter than 1,024 characters.
    mutating func staleKeys() {
        for k in keys.indices {
            if let key = keys[k], key.line < line || key.index + 1024 < index { keys[k] = nil }
        }
    }
}

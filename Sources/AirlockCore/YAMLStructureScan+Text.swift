/// The character level of `YAMLStructureScan`: what libyaml's scanner skips as whitespace,
/// comments and scalars. A scalar's content is never structure, so only its end matters.
extension YAMLStructureScan {
    // MARK: Characters

    /// The byte `k` ahead, or 0 past the end (libyaml treats NUL as the end too).
    func peek(_ k: Int) -> UInt8 { i + k < bytes.count ? bytes[i + k] : 0 }

    /// Moves over `n` characters on the current line.
    mutating func advance(_ n: Int = 1) {
        for _ in 0..<n where i < bytes.count {
            let b = bytes[i]
            i = min(bytes.count, i + (b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4))
            column += 1
            index += 1
        }
    }

    /// The length in bytes of the line break `k` bytes ahead (CR LF, CR, LF, NEL, LS, PS), or 0.
    func breakWidth(_ k: Int = 0) -> Int {
        switch peek(k) {
        case 0x0D: return peek(k + 1) == 0x0A ? 2 : 1
        case 0x0A: return 1
        case 0xC2: return peek(k + 1) == 0x85 ? 2 : 0
        case 0xE2: return peek(k + 1) == 0x80 && (peek(k + 2) == 0xA8 || peek(k + 2) == 0xA9) ? 3 : 0
        default: return 0
        }
    }

    mutating func advanceBreak() {
        let width = breakWidth()
        index += width == 2 && peek(0) == 0x0D ? 2 : 1
        i += width
        line += 1
        column = 0
    }

    func isBlank(_ k: Int) -> Bool { peek(k) == 0x20 || peek(k) == 0x09 }

    func isBreakOrEnd(_ k: Int) -> Bool { peek(k) == 0 || breakWidth(k) > 0 }

    func isBlankOrEnd(_ k: Int) -> Bool { isBlank(k) || isBreakOrEnd(k) }

    /// `---` or `...` followed by a blank, a break or the end (at column 0, checked by callers).
    func isDocumentIndicator() -> Bool {
        let c = peek(0)
        return (c == UInt8(ascii: "-") || c == UInt8(ascii: ".")) && peek(1) == c && peek(2) == c
            && isBlankOrEnd(3)
    }

    /// libyaml's anchor names: ASCII letters, digits, `_` and `-`.
    func isAnchorCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
    }

    // MARK: Between tokens

    /// Spaces, comments and line breaks (libyaml's scan_to_next_token). Tabs separate tokens
    /// only in flow context and after an indicator; a new line in block context may start a key.
    mutating func skipToNextToken() {
        while true {
            if column == 0 && peek(0) == 0xEF && peek(1) == 0xBB && peek(2) == 0xBF { advance() }
            while peek(0) == 0x20 || ((!flows.isEmpty || !simpleKeyAllowed) && peek(0) == 0x09) { advance() }
            if peek(0) == UInt8(ascii: "#") {
                while !isBreakOrEnd(0) { advance() }
            }
            guard breakWidth() > 0 else { return }
            advanceBreak()
            if flows.isEmpty { simpleKeyAllowed = true }
        }
    }

    // MARK: Scalars and tags

    /// `!tag`, `!!tag`, `!handle!suffix` or `!<verbatim>`.
    mutating func skipTag() {
        if peek(1) == UInt8(ascii: "<") {
            advance(2)
            while peek(0) != UInt8(ascii: ">") && !isBlankOrEnd(0) { advance() }
            if peek(0) == UInt8(ascii: ">") { advance() }
            return
        }
        advance()
        while isAnchorCharacter(peek(0)) || ";/?:@&=+$.%!~*'()".utf8.contains(peek(0)) { advance() }
    }

    /// A single- or double-quoted scalar, which may span lines.
    mutating func skipQuoted(single: Bool) {
        let quote = single ? UInt8(ascii: "'") : UInt8(ascii: "\"")
        advance()
        while true {
            if (column == 0 && isDocumentIndicator()) || peek(0) == 0 { return }  // libyaml: error
            while !isBlankOrEnd(0) {
                let c = peek(0)
                if single && c == quote && peek(1) == quote {
                    advance(2)
                } else if c == quote {
                    break
                } else if !single && c == UInt8(ascii: "\\") && breakWidth(1) > 0 {
                    advance()
                    advanceBreak()
                    break
                } else if !single && c == UInt8(ascii: "\\") {
                    advance(2)
                } else {
                    advance()
                }
            }
            if peek(0) == quote {
                advance()
                return
            }
            while isBlank(0) || breakWidth() > 0 {
                if isBlank(0) { advance() } else { advanceBreak() }
            }
        }
    }

    /// A plain scalar: it ends at `: `, ` #`, a flow indicator inside `[ ]` or `{ }`, a document
    /// marker, or a line indented no deeper than its collection (libyaml's scan_plain_scalar).
    mutating func skipPlain() {
        let minimumIndent = indent + 1
        var afterBreak = false
        while true {
            if (column == 0 && isDocumentIndicator()) || peek(0) == UInt8(ascii: "#") { break }
            while !isBlankOrEnd(0) {
                let c = peek(0)
                if c == UInt8(ascii: ":") && isBlankOrEnd(1) { break }
                if !flows.isEmpty && ",[]{}".utf8.contains(c) { break }
                advance()
                afterBreak = false
            }
            guard isBlank(0) || breakWidth() > 0 else { break }
            while isBlank(0) || breakWidth() > 0 {
                if isBlank(0) {
                    advance()
                } else {
                    advanceBreak()
                    afterBreak = true
                }
            }
            if flows.isEmpty && column < minimumIndent { break }
        }
        if afterBreak { simpleKeyAllowed = true }
    }

    /// A literal (`|`) or folded (`>`) scalar: its header, then every line indented at least as
    /// deep as its first (libyaml's scan_block_scalar).
    mutating func skipBlockScalar() {
        advance()
        var increment = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if peek(0) == UInt8(ascii: "+") || peek(0) == UInt8(ascii: "-") {
            advance()
            if isDigit(peek(0)) {
                increment = Int(peek(0) - 0x30)
                advance()
            }
        } else if isDigit(peek(0)) {
            increment = Int(peek(0) - 0x30)
            advance()
            if peek(0) == UInt8(ascii: "+") || peek(0) == UInt8(ascii: "-") { advance() }
        }
        while isBlank(0) { advance() }
        if peek(0) == UInt8(ascii: "#") {
            while !isBreakOrEnd(0) { advance() }
        }
        if breakWidth() > 0 { advanceBreak() }
        var contentIndent = increment > 0 ? (indent >= 0 ? indent + increment : increment) : 0
        skipBlockBreaks(&contentIndent)
        while column == contentIndent && peek(0) != 0 {
            while !isBreakOrEnd(0) { advance() }
            if breakWidth() > 0 { advanceBreak() }
            skipBlockBreaks(&contentIndent)
        }
    }

    /// Indentation and empty lines inside a block scalar; sets the indentation from the first
    /// non-empty line when the header did not give it.
    mutating func skipBlockBreaks(_ contentIndent: inout Int) {
        var deepest = 0
        while true {
            while (contentIndent == 0 || column < contentIndent) && peek(0) == 0x20 { advance() }
            deepest = max(deepest, column)
            if (contentIndent == 0 || column < contentIndent) && peek(0) == 0x09 { break }  // libyaml: error
            guard breakWidth() > 0 else { break }
            advanceBreak()
        }
        if contentIndent == 0 { contentIndent = max(deepest, indent + 1, 1) }
    }
}

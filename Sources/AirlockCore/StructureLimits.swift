/// How large and how deep a YAML or JSON document the runner agrees to read.
///
/// Every file and payload is checked against these limits *before* a parser builds a tree:
/// libyaml/Yams and the code that walks a tree recurse once per nesting level (5,000 nested `[`
/// overflow the stack), and YAML aliases share subtrees that every later walk expands ("billion
/// laughs": 448 bytes become hundreds of millions of nodes). See `YAMLStructureScan` and
/// `JSONStructureScan`.
public struct StructureLimits: Sendable, Equatable {
    /// The largest document, in bytes.
    public var maxBytes: Int
    /// The deepest nesting of lists and mappings.
    public var maxDepth: Int
    /// The most nodes (scalars, lists, mappings) once every alias is expanded.
    public var maxNodes: Int
    /// What the limits apply to, for messages (`YAML files`).
    public var subject: String

    public init(maxBytes: Int, maxDepth: Int, maxNodes: Int, subject: String) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.subject = subject
    }

    /// Job files, profiles, profile case files, recorded profiles and agent configs: 4 MiB, 64
    /// levels, 100,000 nodes. The shipped files use at most 6 levels and, as the scan counts,
    /// under 2,000 nodes (Docker's default seccomp profile, the largest, about 1,700).
    public static let files = StructureLimits(
        maxBytes: 4 << 20, maxDepth: 64, maxNodes: 100_000, subject: "YAML and JSON files")

    /// JSON from a CI coordinator (GitLab job payloads): 16 MiB (what the HTTP client reads),
    /// 64 levels, 1,000,000 nodes.
    public static let payloads = StructureLimits(
        maxBytes: 16 << 20, maxDepth: 64, maxNodes: 1_000_000, subject: "job payloads")

    /// The refusal for a document larger than `maxBytes`, at the first byte beyond it.
    func tooLarge(file: String, at position: (line: Int, column: Int)) -> AirlockError {
        AirlockError(
            .invalidFile,
            "\(file):\(position.line):\(position.column): the document is larger than the size limit of "
                + "\(ByteSize.format(UInt64(maxBytes))) for \(subject)",
            hint: "split it, or remove what the runner does not need; Airlock reads at most "
                + "\(ByteSize.format(UInt64(maxBytes)))")
    }

    /// The refusal for nesting beyond `maxDepth`, at the list or mapping that goes too deep.
    func tooDeep(file: String, line: Int, column: Int) -> AirlockError {
        AirlockError(
            .invalidFile,
            "\(file):\(line):\(column): nesting deeper than \(maxDepth) levels (the limit for \(subject))",
            hint: "flatten the lists and mappings; Airlock's formats need fewer than 10 levels")
    }

    /// The refusal for more than `maxNodes` nodes; `alias` names the alias that crossed the limit.
    func tooManyNodes(file: String, line: Int, column: Int, alias: String? = nil) -> AirlockError {
        let what =
            alias.map { "alias '*\($0)' expands the document beyond" } ?? "the document has more than"
        return AirlockError(
            .invalidFile,
            "\(file):\(line):\(column): \(what) \(maxNodes) nodes (the node limit for \(subject), "
                + "counting every alias as a copy of its anchor)",
            hint: alias == nil
                ? "split the document; Airlock's formats need far fewer entries"
                : "write the values out instead of nesting aliases of aliases")
    }
}

/// Line and column (both 1-based, columns in characters) of a byte offset in UTF-8 text.
func textPosition(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    var i = 0
    let end = min(offset, bytes.count)
    while i < end {
        let b = bytes[i]
        if b == 0x0A {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1
        }
        i += 1
    }
    return (line, column)
}

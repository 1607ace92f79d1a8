import Yams

/// One node of a parsed YAML document, with the file it came from and its field path
/// (`steps[1].run`), so accessors can throw errors that name both.
///
/// Sequence indexes in paths count from 0.
public struct YAMLNode {
    /// The underlying Yams node.
    public let node: Node
    /// The file name used in messages.
    public let file: String
    /// The field path from the document root (`""` for the root itself).
    public let path: String

    public init(node: Node, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    /// Where the node starts (1-based line and column).
    public var location: SourceLocation {
        SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    /// The path for messages (`the document` for the root).
    public var fieldDescription: String { path.isEmpty ? "the document" : "field '\(path)'" }

    /// An error located at this node: `file:line:col: message`.
    public func error(
        _ message: String, hint: String? = nil, code: AirlockError.Code = .invalidFile
    ) -> AirlockError {
        AirlockError(code, "\(location): \(message)", hint: hint)
    }

    /// Re-locates an error thrown by a value parser (e.g. `ByteSize.parse`) at this node.
    public func wrap(_ error: Error, what: String) -> AirlockError {
        if let e = error as? AirlockError {
            return AirlockError(e.code, "\(location): \(fieldDescription) \(what): \(e.message)", hint: e.hint)
        }
        return AirlockError(
            .invalidFile, "\(location): \(fieldDescription) \(what): \(error)",
            hint: "fix the value at the line shown")
    }

    // MARK: Shape

    /// `true` for a plain empty scalar, `~` or `null` (`Null`, `NULL`), or one tagged `!!null`.
    ///
    /// The YAML 1.1 null rule, checked here rather than by Yams' default resolver: that one
    /// compiles a regular expression per tag on first use (ICU start-up, a few milliseconds of
    /// every CLI run), and null is the only tag Airlock reads.
    public var isNull: Bool {
        guard case let .scalar(s) = node else { return false }
        // Yams leaves a plain scalar's tag implicit (""), as nothing here resolves it; quoted
        // scalars carry `!!str`, explicitly tagged ones their tag.
        let tag = s.tag.description
        if tag.isEmpty { return Self.nullSpellings.contains(s.string) }
        return tag == Tag.Name.null.rawValue
    }

    static let nullSpellings: Set<String> = ["", "~", "null", "Null", "NULL"]

    /// The scalar's text, or `nil` for mappings, sequences and null.
    public var scalarText: String? {
        if case let .scalar(s) = node, !isNull { return s.string }
        return nil
    }

    /// A short description of what the node is (`a mapping`, `a list`, `empty`, `'text'`).
    public var kindDescription: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(s): return isNull ? "empty" : "'\(s.string)'"
        }
    }

    /// The elements of a sequence, each with its path (`steps[0]`).
    public func sequence() throws -> [YAMLNode] {
        guard case let .sequence(seq) = node else {
            throw error("\(fieldDescription) must be a list, not \(kindDescription)")
        }
        return seq.enumerated().map { YAMLNode(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    /// A mapping view. When `allowedKeys` is given, any other key is an error that suggests the
    /// closest allowed key (`unknown field 'stpes' (did you mean 'steps'?)`).
    public func mapping(allowedKeys: [String]? = nil) throws -> YAMLMapping {
        guard case let .mapping(map) = node else {
            throw error("\(fieldDescription) must be a mapping, not \(kindDescription)")
        }
        var entries: [YAMLMapping.Entry] = []
        for (k, v) in map {
            let keyNode = YAMLNode(node: k, file: file, path: path)
            guard case let .scalar(ks) = k else {
                throw keyNode.error("keys in \(fieldDescription) must be plain names, not \(keyNode.kindDescription)")
            }
            let key = ks.string
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if let allowedKeys, !allowedKeys.contains(key) {
                let suggestion = Suggest.closest(to: key, in: allowedKeys)
                throw YAMLNode(node: k, file: file, path: childPath).error(
                    "unknown field '\(childPath)'\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")",
                    hint: suggestion.map { "rename it to '\($0)'" }
                        ?? "fields allowed \(path.isEmpty ? "at the top level" : "in '\(path)'"): \(allowedKeys.joined(separator: ", "))"
                )
            }
            entries.append(
                .init(
                    key: key, keyNode: YAMLNode(node: k, file: file, path: childPath),
                    value: YAMLNode(node: v, file: file, path: childPath)))
        }
        return YAMLMapping(node: self, entries: entries)
    }

    /// Throws on a repeated key anywhere below this node (YAML says keys are unique; a repeat
    /// is almost always a copy-paste mistake that would silently drop one value).
    func checkDuplicateKeys() throws {
        switch node {
        case let .mapping(map):
            var seen: [String: Int] = [:]
            for (k, v) in map {
                if case let .scalar(s) = k {
                    if let firstLine = seen[s.string] {
                        let childPath = path.isEmpty ? s.string : "\(path).\(s.string)"
                        throw YAMLNode(node: k, file: file, path: childPath).error(
                            "field '\(childPath)' is given twice (first on line \(firstLine))",
                            hint: "remove one of the two")
                    }
                    seen[s.string] = k.mark?.line ?? 0
                    try YAMLNode(node: v, file: file, path: path.isEmpty ? s.string : "\(path).\(s.string)")
                        .checkDuplicateKeys()
                }
            }
        case let .sequence(seq):
            for (i, n) in seq.enumerated() {
                try YAMLNode(node: n, file: file, path: "\(path)[\(i)]").checkDuplicateKeys()
            }
        case .scalar:
            break
        }
    }
}

/// A YAML mapping with typed lookups; keys keep their file order.
public struct YAMLMapping {
    /// One `key: value` pair.
    public struct Entry {
        public let key: String
        /// The key's node (its location is where the key is written).
        public let keyNode: YAMLNode
        public let value: YAMLNode
    }

    /// The mapping node itself.
    public let node: YAMLNode
    /// The pairs, in file order.
    public let entries: [Entry]

    /// The keys, in file order.
    public var keys: [String] { entries.map(\.key) }

    /// Whether `key` is present (even with a null value).
    public func contains(_ key: String) -> Bool { entries.contains { $0.key == key } }

    /// The value for `key`, or `nil` when the key is absent or its value is null.
    public subscript(_ key: String) -> YAMLNode? {
        guard let v = entries.first(where: { $0.key == key })?.value, !v.isNull else { return nil }
        return v
    }

    /// The value for `key`; throws `missing required field` (at the mapping) when absent or null.
    public func required(_ key: String, hint: String? = nil) throws -> YAMLNode {
        if let v = self[key] { return v }
        let full = node.path.isEmpty ? key : "\(node.path).\(key)"
        throw node.error(
            "missing required field '\(full)'",
            hint: hint ?? "add '\(key):' to \(node.path.isEmpty ? "the file" : "'\(node.path)'")")
    }
}

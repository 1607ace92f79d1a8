import Foundation
import Yams

/// Reads YAML (and JSON, which is YAML) into `YAMLNode`s that remember their file, line, column
/// and field path, so every later error can say `job.yaml:12:5: field 'steps[1].run' …`.
///
/// Built on `Yams.compose`, which keeps each node's `mark`. Used by the job and profile loaders.
public enum YAMLReader {
    /// Parses `text`, naming `file` in every error.
    ///
    /// The text is first measured against `limits` (size, nesting, nodes with aliases expanded;
    /// see `StructureLimits`), so hostile input is refused before libyaml or any walk of the tree
    /// can run out of stack or time; the composed tree's node count is checked again.
    ///
    /// - Throws: `AirlockError(.invalidFile)` for input over a limit, malformed YAML (with Yams'
    ///   line and column), an empty document, or a mapping with a repeated key.
    public static func parse(_ text: String, file: String, limits: StructureLimits = .files) throws -> YAMLNode {
        let prepared = jsonTabsToSpaces(text)
        try YAMLStructureScan.check(prepared, file: file, limits: limits)
        let root: Node?
        do {
            // No resolver rules: plain scalars stay implicit and `YAMLNode.isNull` applies the
            // null rule itself (the only tag read), without compiling Yams' regexes.
            root = try Yams.compose(yaml: prepared, .basic)
        } catch let error as YamlError {
            throw malformed(error, file: file)
        } catch {
            throw AirlockError(
                .invalidFile, "\(file): malformed YAML: \(error)",
                hint: "check the indentation and quoting around the line shown", cause: error)
        }
        guard let root else {
            throw AirlockError(
                .invalidFile, "\(file): the file is empty",
                hint: "write a YAML mapping with the fields described in the README")
        }
        let node = YAMLNode(node: root, file: file, path: "")
        try node.checkNodeCount(limits)
        try node.checkDuplicateKeys()
        return node
    }

    /// Reads the file at `path` and parses it; the returned bytes are exactly what was read
    /// (for hashing). `displayName` is used in messages (defaults to `path`).
    public static func load(path: String, displayName: String? = nil) throws -> (root: YAMLNode, bytes: [UInt8]) {
        let name = displayName ?? path
        let bytes = try readFile(path, displayName: name)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw AirlockError(.invalidFile, "\(name): the file is not UTF-8 text", hint: "save the file as UTF-8")
        }
        return (try parse(text, file: name), bytes)
    }

    /// Reads a whole file, turning failures into `AirlockError(.missingFile)`. Reads at most one
    /// byte more than `limits.maxBytes`: a larger file (or an endless one such as `/dev/zero`)
    /// is refused with `AirlockError(.invalidFile)`.
    public static func readFile(
        _ path: String, displayName: String? = nil, limits: StructureLimits = .files
    ) throws -> [UInt8] {
        let name = displayName ?? path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw AirlockError(
                .missingFile, "\(name): file does not exist",
                hint:
                    "check the path (relative paths are taken from the current directory: \(FileManager.default.currentDirectoryPath))"
            )
        }
        guard !isDir.boolValue else {
            throw AirlockError(.missingFile, "\(name): is a directory, not a file", hint: "name the file itself")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AirlockError(.missingFile, "\(name): cannot be read", hint: "check the file's permissions")
        }
        defer { try? handle.close() }
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try handle.read(upToCount: limits.maxBytes + 1) ?? Data())
        } catch {
            throw AirlockError(.missingFile, "\(name): cannot be read: \(error)", hint: "check the file's permissions")
        }
        if bytes.count > limits.maxBytes {
            throw limits.tooLarge(file: name, at: textPosition(of: limits.maxBytes, in: bytes))
        }
        return bytes
    }

    private static func malformed(_ error: YamlError, file: String) -> AirlockError {
        let hint = "fix the YAML syntax at that position (indent with spaces, quote values containing ': ' or '#')"
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            var message = "\(file):\(mark.line):\(mark.column): malformed YAML: \(problem)"
            if let context { message += " (\(context.text) at \(context.mark.line):\(context.mark.column))" }
            return AirlockError(.invalidFile, message, hint: hint)
        case let .reader(problem, offset, _, _):
            return AirlockError(
                .invalidFile, "\(file): malformed YAML: \(problem)\(offset.map { " at byte \($0)" } ?? "")", hint: hint)
        default:
            return AirlockError(.invalidFile, "\(file): malformed YAML: \(error)", hint: hint)
        }
    }

    /// JSON allows tabs as whitespace but YAML does not allow them for indentation. When the
    /// document looks like JSON (starts with `{` or `[`), tabs outside strings become spaces —
    /// one character for one, so columns in messages stay right.
    static func jsonTabsToSpaces(_ text: String) -> String {
        guard let first = text.unicodeScalars.first(where: { !" \t\r\n\u{FEFF}".unicodeScalars.contains($0) }),
            first == "{" || first == "[", text.unicodeScalars.contains("\t")
        else { return text }
        var out = String.UnicodeScalarView()
        var inString = false, escaped = false
        for u in text.unicodeScalars {
            if inString {
                if escaped {
                    escaped = false
                } else if u == "\\" {
                    escaped = true
                } else if u == "\"" {
                    inString = false
                }
                out.append(u)
            } else {
                if u == "\"" { inString = true }
                out.append(u == "\t" ? " " : u)
            }
        }
        return String(out)
    }
}

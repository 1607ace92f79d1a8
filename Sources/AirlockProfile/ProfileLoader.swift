import AirlockCore
import Foundation

/// Finds, parses, merges and validates profiles.
///
/// A reference containing `/` or ending in `.yaml`, `.yml` or `.json` is a path (relative to the
/// current directory, or to the referring file for `extends`). Anything else is a name, looked
/// up as `<dir>/<name>.yaml`, `.yml`, `.json` in each search path in order, then among the
/// profiles built into the binary (`EmbeddedProfiles`).
///
/// ```swift
/// let loader = ProfileLoader(searchPaths: ["Profiles"], syscalls: LibseccompSyscallTable())
/// let loaded = try loader.load("strict")
/// ```
public struct ProfileLoader: Sendable {
    /// Directories searched for named profiles, in order.
    public var searchPaths: [String]
    /// Resolves syscall names; every name in a profile must be known to it.
    public var syscalls: any SyscallTable
    /// Built-in profiles by name (YAML text), used when a name is not on the search path.
    public var embedded: [String: String]

    public init(
        searchPaths: [String], syscalls: any SyscallTable, embedded: [String: String] = EmbeddedProfiles.all
    ) {
        self.searchPaths = searchPaths
        self.syscalls = syscalls
        self.embedded = embedded
    }

    /// Whether `reference` is a path rather than a name.
    public static func isPath(_ reference: String) -> Bool {
        reference.contains("/") || [".yaml", ".yml", ".json"].contains { reference.hasSuffix($0) }
    }

    /// Whether `name` is a valid profile name (`[A-Za-z0-9._-]+`).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// The names that `load` can find: search-path files and embedded profiles, sorted.
    public func availableNames() -> [String] {
        var names = Set(embedded.keys)
        for dir in searchPaths {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
                for ext in [".yaml", ".yml", ".json"] where file.hasSuffix(ext) {
                    names.insert(String(file.dropLast(ext.count)))
                }
            }
        }
        return names.sorted()
    }

    /// Loads `nameOrPath`, resolves its `extends` chain, merges it and validates the result.
    ///
    /// - Throws: `AirlockError(.missingFile)` when the profile or a parent cannot be found;
    ///   `.invalidFile` for anything that does not parse or validate, naming file, line and field.
    public func load(_ nameOrPath: String) throws -> LoadedProfile {
        var order: [ProfileFragment] = []
        var done = Set<String>()
        try collect(
            nameOrPath, from: FileManager.default.currentDirectoryPath, referencedAt: nil, chain: [],
            done: &done, order: &order)
        return try ProfileMerger.merge(order)
    }

    // MARK: Resolution

    /// Depth-first, parents before children, each file once (a diamond loads its base once).
    private func collect(
        _ reference: String, from directory: String?, referencedAt: SourceLocation?, chain: [ProfileFragment],
        done: inout Set<String>, order: inout [ProfileFragment], skipping: String? = nil
    ) throws {
        let fragment = try fragment(
            for: reference, from: directory, referencedAt: referencedAt, chain: chain, skipping: skipping)
        if let start = chain.firstIndex(where: { $0.identity == fragment.identity }) {
            let cycle = (chain[start...].map(\.file) + [fragment.file]).joined(separator: " → ")
            throw AirlockError(
                .invalidFile, "\(referencedAt ?? SourceLocation(file: chain.last!.file)): profile cycle: \(cycle)",
                hint: "remove one of the 'extends' entries so the chain ends in a profile that extends nothing")
        }
        guard !done.contains(fragment.identity) else { return }
        for parent in fragment.extends {
            try collect(
                parent.reference, from: fragment.directory, referencedAt: parent.location, chain: chain + [fragment],
                done: &done, order: &order, skipping: fragment.replacesSeccomp ? fragment.identity : nil)
        }
        done.insert(fragment.identity)
        order.append(fragment)
    }

    /// Finds and parses one file. `skipping` is an identity not to resolve to (an OCI file's
    /// implicit `default` parent must not be the OCI file itself).
    private func fragment(
        for reference: String, from directory: String?, referencedAt: SourceLocation?, chain: [ProfileFragment],
        skipping: String?
    ) throws -> ProfileFragment {
        let cwd = FileManager.default.currentDirectoryPath
        let chainText = chain.isEmpty ? "" : " (chain: \((chain.map(\.file)).joined(separator: " → ")))"
        let prefix = referencedAt.map { "\($0): " } ?? ""
        if Self.isPath(reference) {
            let absolute = PathSyntax.resolve(reference, against: directory ?? cwd)
            // The top-level file keeps the spelling the person typed; parents show where they are.
            let display = referencedAt == nil ? reference : absolute
            guard FileManager.default.fileExists(atPath: absolute) else {
                throw AirlockError(
                    .missingFile,
                    "\(prefix)profile file '\(reference)' does not exist (looked at \(absolute))\(chainText)",
                    hint: "check the path; relative paths in 'extends' are taken from the referring file's directory")
            }
            return try parseFile(at: absolute, display: display, name: Self.stem(of: reference))
        }
        guard Self.isValidName(reference) else {
            throw AirlockError(
                .invalidFile, "\(prefix)'\(reference)' is not a valid profile name\(chainText)",
                hint: "names contain only letters, digits, '.', '_' and '-'; write a path with '/' to load a file")
        }
        for dir in searchPaths {
            for ext in [".yaml", ".yml", ".json"] {
                let display = dir.hasSuffix("/") ? "\(dir)\(reference)\(ext)" : "\(dir)/\(reference)\(ext)"
                let absolute = PathSyntax.resolve(display, against: cwd)
                if absolute != skipping, FileManager.default.fileExists(atPath: absolute) {
                    return try parseFile(at: absolute, display: display, name: reference)
                }
            }
        }
        if let text = embedded[reference] {
            return try parse(
                text: text, bytes: Array(text.utf8), display: "<embedded>/\(reference).yaml",
                identity: "embedded:\(reference)", directory: nil, name: reference)
        }
        let known = availableNames()
        let suggestion = Suggest.closest(to: reference, in: known)
        throw AirlockError(
            .missingFile,
            "\(prefix)profile '\(reference)' not found\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")\(chainText); looked in \(searchPaths.isEmpty ? "no search paths" : searchPaths.joined(separator: ", ")) and the built-in profiles",
            hint: "available profiles: \(known.joined(separator: ", ")); or give a path to a .yaml/.json file")
    }

    private func parseFile(at absolute: String, display: String, name: String) throws -> ProfileFragment {
        let bytes = try YAMLReader.readFile(absolute, displayName: display)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw AirlockError(.invalidFile, "\(display): the file is not UTF-8 text", hint: "save the file as UTF-8")
        }
        return try parse(
            text: text, bytes: bytes, display: display, identity: absolute,
            directory: PathSyntax.directory(of: absolute), name: name)
    }

    private func parse(
        text: String, bytes: [UInt8], display: String, identity: String, directory: String?, name: String
    ) throws -> ProfileFragment {
        let root = try YAMLReader.parse(text, file: display)
        var fragment = ProfileFragment(
            name: name, file: display, identity: identity, directory: directory, bytes: bytes)
        if OCISeccompImporter.looksLikeOCI(root) {
            try OCISeccompImporter(syscalls: syscalls).parse(root: root, into: &fragment)
        } else {
            try ProfileParser(syscalls: syscalls).parse(root: root, into: &fragment)
        }
        return fragment
    }

    static func stem(of path: String) -> String {
        var last = PathSyntax.lastComponent(path)
        for ext in [".yaml", ".yml", ".json"] where last.hasSuffix(ext) {
            last = String(last.dropLast(ext.count))
        }
        return last
    }
}

import AirlockCore
import Foundation

/// SPDX 2.3 JSON documents describing a job's output files and the packages in its toolchain.
public enum SPDXBuilder {
    /// A minimal, valid SPDX 2.3 document.
    ///
    /// - Files are sorted by name; `fileName` is `./<name>`; each gets a unique `SPDXRef-File-…`
    ///   id built from its name (characters outside `[A-Za-z0-9.-]` become `-`, and a numeric
    ///   suffix resolves collisions). Checksums are SHA1 and SHA256. SPDX 2.3 requires SHA1 for
    ///   every file, so fill `FileDigest.sha1`; a file without it gets only SHA256 and the
    ///   document will not validate.
    /// - Packages (sorted by name, then version) get `SPDXRef-Package-…` ids, `versionInfo`,
    ///   `downloadLocation` NOASSERTION and `filesAnalyzed` false.
    /// - The document DESCRIBES every file and package.
    ///
    /// - Parameters:
    ///   - name: The document name, e.g. the job name.
    ///   - namespace: A unique URI for this document, e.g. `https://airlock.example/spdx/<invocation id>`.
    ///   - created: The creation time (written as RFC 3339 UTC).
    ///   - creatorTool: The tool and version, written as `Tool: <creatorTool>`.
    public static func document(
        name: String, namespace: String, created: Date, files: [FileDigest],
        packages: [(name: String, version: String)], creatorTool: String
    ) -> JSONValue {
        var used: Set<String> = ["SPDXRef-DOCUMENT"]
        var relationships: [JSONValue] = []

        var fileEntries: [JSONValue] = []
        for file in files.sorted(by: { $0.name < $1.name }) {
            let id = uniqueID("SPDXRef-File-" + sanitize(file.name), used: &used)
            var checksums: [JSONValue] = []
            if let sha1 = file.sha1, !sha1.isEmpty {
                checksums.append(.object(["algorithm": .string("SHA1"), "checksumValue": .string(sha1.lowercased())]))
            }
            checksums.append(
                .object(["algorithm": .string("SHA256"), "checksumValue": .string(file.sha256.lowercased())]))
            fileEntries.append(
                .object([
                    "fileName": .string(fileName(file.name)),
                    "SPDXID": .string(id),
                    "checksums": .array(checksums),
                    "licenseConcluded": .string("NOASSERTION"),
                    "copyrightText": .string("NOASSERTION"),
                ]))
            relationships.append(describes(id))
        }

        var packageEntries: [JSONValue] = []
        for package in packages.sorted(by: { ($0.name, $0.version) < ($1.name, $1.version) }) {
            var idBase = "SPDXRef-Package-" + sanitize(package.name)
            if !package.version.isEmpty { idBase += "-" + sanitize(package.version) }
            let id = uniqueID(idBase, used: &used)
            var entry: [String: JSONValue] = [
                "name": .string(package.name),
                "SPDXID": .string(id),
                "downloadLocation": .string("NOASSERTION"),
                "filesAnalyzed": .bool(false),
            ]
            if !package.version.isEmpty { entry["versionInfo"] = .string(package.version) }
            packageEntries.append(.object(entry))
            relationships.append(describes(id))
        }

        var document: [String: JSONValue] = [
            "spdxVersion": .string("SPDX-2.3"),
            "dataLicense": .string("CC0-1.0"),
            "SPDXID": .string("SPDXRef-DOCUMENT"),
            "name": .string(name),
            "documentNamespace": .string(namespace),
            "creationInfo": .object([
                "created": .string(RFC3339.string(from: created)),
                "creators": .array([.string("Tool: " + creatorTool)]),
            ]),
        ]
        if !fileEntries.isEmpty { document["files"] = .array(fileEntries) }
        if !packageEntries.isEmpty { document["packages"] = .array(packageEntries) }
        if !relationships.isEmpty { document["relationships"] = .array(relationships) }
        return .object(document)
    }

    /// `./name` for a relative name; absolute and `./` names are kept relative to the root.
    static func fileName(_ name: String) -> String {
        if name.hasPrefix("./") { return name }
        if name.hasPrefix("/") { return "." + name }
        return "./" + name
    }

    /// Replace every character outside `[A-Za-z0-9.-]` with `-`; empty becomes `unnamed`.
    static func sanitize(_ text: String) -> String {
        let mapped = text.unicodeScalars.map { u -> Character in
            switch u {
            case "A"..."Z", "a"..."z", "0"..."9", ".", "-": return Character(u)
            default: return "-"
            }
        }
        let s = String(mapped)
        return s.isEmpty ? "unnamed" : s
    }

    static func uniqueID(_ base: String, used: inout Set<String>) -> String {
        var id = base
        var n = 2
        while used.contains(id) {
            id = "\(base)-\(n)"
            n += 1
        }
        used.insert(id)
        return id
    }

    static func describes(_ id: String) -> JSONValue {
        .object([
            "spdxElementId": .string("SPDXRef-DOCUMENT"),
            "relationshipType": .string("DESCRIBES"),
            "relatedSpdxElement": .string(id),
        ])
    }
}

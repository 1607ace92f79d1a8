import AirlockCore

/// in-toto Attestation Framework, Statement layer v1.
public enum InTotoStatement {
    /// The statement's `_type`.
    public static let type = "https://in-toto.io/Statement/v1"

    /// A statement: `subject` (one entry per artifact, sorted by name) plus a typed predicate.
    public static func statement(subjects: [FileDigest], predicateType: String, predicate: JSONValue) -> JSONValue {
        .object([
            "_type": .string(type),
            "subject": .array(subjects.sorted { $0.name < $1.name }.map { resourceDescriptor($0) }),
            "predicateType": .string(predicateType),
            "predicate": predicate,
        ])
    }

    /// A ResourceDescriptor `{name, digest: {sha256}}` for a file.
    static func resourceDescriptor(_ file: FileDigest, annotations: [String: JSONValue] = [:]) -> JSONValue {
        var members: [String: JSONValue] = [
            "name": .string(file.name),
            "digest": .object(["sha256": .string(file.sha256.lowercased())]),
        ]
        if !annotations.isEmpty { members["annotations"] = .object(annotations) }
        return .object(members)
    }
}

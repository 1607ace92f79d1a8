import AirlockCore

/// The outcome of `ProvenanceVerifier.verify`.
public enum VerificationResult: Equatable, Sendable {
    /// A trusted key signed the envelope, it is an SLSA v1 statement from the expected builder,
    /// and every artifact is among its subjects. `subjects` maps subject name to SHA-256 hex.
    case verified(statement: JSONValue, subjects: [String: String])
    /// Verification failed; the failure says at which step.
    case failed(VerificationFailure)

    /// True for `.verified`.
    public var isVerified: Bool {
        if case .verified = self { return true }
        return false
    }
}

/// Why provenance did not verify, in the order the checks run.
public enum VerificationFailure: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The text (or a line of it) is not JSON.
    case notJSON
    /// JSON, but not a DSSE envelope; the string says what is missing or malformed.
    case notDSSE(String)
    /// The envelope's payload type is not `application/vnd.in-toto+json`.
    case wrongPayloadType(String)
    /// No signature's keyid matches a given key, and no given key verifies any signature.
    case unknownKey(keyids: [String])
    /// A signature's keyid matches a given key, but the signature does not verify.
    case badSignature(keyid: String)
    /// The payload is not an in-toto Statement v1 (`_type` shown, or why it could not be read).
    case wrongStatementType(String)
    /// The statement's predicate is not SLSA Provenance v1.
    case wrongPredicateType(String)
    /// The provenance names a different builder than required.
    case wrongBuilder(expected: String, found: String)
    /// The artifact's SHA-256 is not among the statement's subjects.
    case digestMismatch(path: String, sha256: String)

    /// One line for people.
    public var description: String {
        switch self {
        case .notJSON:
            return "not JSON: expected a DSSE envelope (one JSON object per line of an .intoto.jsonl file)"
        case let .notDSSE(reason):
            return "not a DSSE envelope: \(reason)"
        case let .wrongPayloadType(type):
            return "payload type is \"\(type)\", expected \"\(DSSE.inTotoPayloadType)\""
        case let .unknownKey(keyids):
            let ids = keyids.filter { !$0.isEmpty }
            return ids.isEmpty
                ? "no given public key verifies the signatures (they carry no key id)"
                : "signed by an unknown key (key id \(ids.joined(separator: ", "))); pass the signer's public key"
        case let .badSignature(keyid):
            return "the signature by key \(keyid) does not verify: the provenance was modified after signing"
        case let .wrongStatementType(type):
            return "payload is not an in-toto Statement v1 (_type \(type.isEmpty ? "missing" : "\"\(type)\""))"
        case let .wrongPredicateType(type):
            return "predicate type is \(type.isEmpty ? "missing" : "\"\(type)\""), "
                + "expected \"\(ProvenanceBuilder.predicateType)\""
        case let .wrongBuilder(expected, found):
            return "built by \(found.isEmpty ? "an unnamed builder" : "\"\(found)\""), expected \"\(expected)\""
        case let .digestMismatch(path, sha256):
            return "\(path) (sha256 \(sha256)) is not a subject of this provenance: "
                + "the artifact differs from what was built"
        }
    }

    /// How far verification got before this failure; a later step is a more specific failure.
    var step: Int {
        switch self {
        case .notJSON: return 0
        case .notDSSE: return 1
        case .wrongPayloadType: return 2
        case .unknownKey: return 3
        case .badSignature: return 4
        case .wrongStatementType: return 5
        case .wrongPredicateType: return 6
        case .wrongBuilder: return 7
        case .digestMismatch: return 8
        }
    }
}

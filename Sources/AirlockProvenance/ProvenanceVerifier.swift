import AirlockCore
import Foundation

/// Verifies `.intoto.jsonl` provenance: DSSE signature, statement and predicate types, builder,
/// and that given artifacts are among the subjects.
public enum ProvenanceVerifier {
    /// Verify provenance text: one DSSE envelope, or several, one per line (`.intoto.jsonl`).
    ///
    /// Each envelope is checked in order — DSSE structure, payload type, signature by one of
    /// `keys`, in-toto Statement v1, SLSA Provenance v1, builder id (when `builderID` is given),
    /// then every artifact's SHA-256 against the subjects. The first envelope that passes wins;
    /// if none does, the failure from the envelope that got furthest is reported.
    /// The payload is parsed with `JSONSerialization`, independently of the writer.
    public static func verify(
        envelopeText: String, keys: [PublicKey], builderID: String?, artifacts: [(path: String, sha256: String)]
    ) -> VerificationResult {
        // A pretty-printed single envelope spans lines; try the whole text first.
        let whole = Data(envelopeText.utf8)
        let candidates: [Data]
        if (try? JSONSerialization.jsonObject(with: whole)) != nil {
            candidates = [whole]
        } else {
            candidates = envelopeText.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
                .map { Data($0.utf8) }
        }
        guard !candidates.isEmpty else { return .failed(.notDSSE("the input is empty")) }

        var best: VerificationFailure?
        for line in candidates {
            switch verifyOne(line, keys: keys, builderID: builderID, artifacts: artifacts) {
            case let .success(result):
                return result
            case let .failure(failure):
                if best == nil || failure.step > best!.step { best = failure }
            }
        }
        return .failed(best!)
    }

    static func verifyOne(
        _ json: Data, keys: [PublicKey], builderID: String?, artifacts: [(path: String, sha256: String)]
    ) -> Result<VerificationResult, VerificationFailure> {
        let envelope: DSSEEnvelope
        switch DSSEEnvelope.parse(json) {
        case let .success(e): envelope = e
        case .failure(.notJSON): return .failure(.notJSON)
        case let .failure(.notDSSE(reason)): return .failure(.notDSSE(reason))
        }
        guard envelope.payloadType == DSSE.inTotoPayloadType else {
            return .failure(.wrongPayloadType(envelope.payloadType))
        }
        if let failure = checkSignatures(envelope, keys: keys) { return .failure(failure) }

        // Only now, with the payload authenticated, parse it.
        guard let any = try? JSONSerialization.jsonObject(with: Data(envelope.payload)),
            let statement = JSONValue(foundation: any), case .object = statement
        else {
            return .failure(.wrongStatementType("<payload is not a JSON object>"))
        }
        let type = statement[member: "_type"]?.stringValue ?? ""
        guard type == InTotoStatement.type else { return .failure(.wrongStatementType(type)) }
        let predicateType = statement[member: "predicateType"]?.stringValue ?? ""
        guard predicateType == ProvenanceBuilder.predicateType else {
            return .failure(.wrongPredicateType(predicateType))
        }
        if let builderID {
            let found =
                statement[member: "predicate"]?[member: "runDetails"]?[member: "builder"]?[member: "id"]?
                .stringValue ?? ""
            guard found == builderID else { return .failure(.wrongBuilder(expected: builderID, found: found)) }
        }

        var subjects: [String: String] = [:]
        if case let .array(items)? = statement[member: "subject"] {
            for item in items {
                guard let name = item[member: "name"]?.stringValue,
                    let sha = item[member: "digest"]?[member: "sha256"]?.stringValue
                else { continue }
                subjects[name] = sha.lowercased()
            }
        }
        let digests = Set(subjects.values)
        for artifact in artifacts where !digests.contains(artifact.sha256.lowercased()) {
            return .failure(.digestMismatch(path: artifact.path, sha256: artifact.sha256.lowercased()))
        }
        return .success(.verified(statement: statement, subjects: subjects))
    }

    /// Nil when some signature verifies with some key. A keyid is only a hint: signatures whose
    /// keyid matches no key are tried against every key.
    static func checkSignatures(_ envelope: DSSEEnvelope, keys: [PublicKey]) -> VerificationFailure? {
        let pae = envelope.pae
        var badKeyID: String?
        for signature in envelope.signatures {
            let matching = keys.filter { $0.keyID == signature.keyid }
            for key in matching.isEmpty ? keys : matching where key.isValidSignature(signature.sig, for: pae) {
                return nil
            }
            if !matching.isEmpty, badKeyID == nil { badKeyID = signature.keyid }
        }
        if let badKeyID { return .badSignature(keyid: badKeyID) }
        return .unknownKey(keyids: envelope.signatures.map(\.keyid))
    }
}

import AirlockCore
import Foundation

extension DSSEEnvelope {
    /// The envelope as one line of JSON, no trailing newline — one line of an `.intoto.jsonl`
    /// file. `payload` and `sig` are standard base64 with padding; keys are sorted; `keyid` is
    /// omitted when empty.
    public func jsonLine() -> String {
        let sigs: [JSONValue] = signatures.map { s in
            var members: [String: JSONValue] = ["sig": .string(Base64.encode(s.sig))]
            if !s.keyid.isEmpty { members["keyid"] = .string(s.keyid) }
            return .object(members)
        }
        return JSONValue.object([
            "payload": .string(Base64.encode(payload)),
            "payloadType": .string(payloadType),
            "signatures": .array(sigs),
        ]).rendered()
    }

    /// Parse the DSSE JSON envelope. Accepts standard or URL-safe base64, padded or not, and
    /// signatures without `keyid`.
    ///
    /// Throws an `AirlockError` (`dsse.invalid-envelope`) that distinguishes "not JSON" from
    /// "JSON, but not a DSSE envelope" and names the missing or malformed field.
    public init(json: Data) throws {
        switch DSSEEnvelope.parse(json) {
        case let .success(envelope):
            self = envelope
        case .failure(.notJSON):
            throw AirlockError(
                .invalidEnvelope, "the envelope is not JSON",
                hint: "pass a DSSE envelope: one JSON object per line, as in an .intoto.jsonl file")
        case let .failure(.notDSSE(reason)):
            throw AirlockError(
                .invalidEnvelope, "the JSON is not a DSSE envelope: \(reason)",
                hint: "a DSSE envelope has `payloadType`, base64 `payload` and `signatures` [{keyid, sig}]")
        }
    }

    enum ParseFailure: Error, Equatable {
        case notJSON
        case notDSSE(String)
    }

    /// Parse without throwing, for the verifier, which maps the failure onto its own cases.
    static func parse(_ json: Data) -> Result<DSSEEnvelope, ParseFailure> {
        guard let any = try? JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed]) else {
            return .failure(.notJSON)
        }
        guard let object = any as? [String: Any] else {
            return .failure(.notDSSE("the JSON is not an object"))
        }
        var missing: [String] = []
        for field in ["payloadType", "payload", "signatures"] where object[field] == nil { missing.append(field) }
        if !missing.isEmpty {
            return .failure(.notDSSE("missing " + missing.joined(separator: ", ")))
        }
        guard let payloadType = object["payloadType"] as? String else {
            return .failure(.notDSSE("`payloadType` is not a string"))
        }
        guard let payloadText = object["payload"] as? String, let payload = Base64.decode(Array(payloadText.utf8))
        else {
            return .failure(.notDSSE("`payload` is not a base64 string"))
        }
        guard let list = object["signatures"] as? [Any] else {
            return .failure(.notDSSE("`signatures` is not an array"))
        }
        var signatures: [Signature] = []
        for (i, item) in list.enumerated() {
            guard let entry = item as? [String: Any] else {
                return .failure(.notDSSE("signatures[\(i)] is not an object"))
            }
            guard let sigText = entry["sig"] as? String, let sig = Base64.decode(Array(sigText.utf8)) else {
                return .failure(.notDSSE("signatures[\(i)].sig is missing or not base64"))
            }
            var keyid = ""
            if let k = entry["keyid"], !(k is NSNull) {
                guard let s = k as? String else {
                    return .failure(.notDSSE("signatures[\(i)].keyid is not a string"))
                }
                keyid = s
            }
            signatures.append(Signature(keyid: keyid, sig: sig))
        }
        return .success(DSSEEnvelope(payload: payload, payloadType: payloadType, signatures: signatures))
    }
}

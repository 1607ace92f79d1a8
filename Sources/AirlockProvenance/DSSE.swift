import AirlockCore

/// Dead Simple Signing Envelope (DSSE v1.0): pre-authentication encoding and signing.
///
/// A signature covers `PAE(payloadType, payload)` — the exact payload bytes, never a re-encoding.
public enum DSSE {
    /// The payload type of in-toto statements.
    public static let inTotoPayloadType = "application/vnd.in-toto+json"

    /// The pre-authentication encoding:
    /// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where LEN is the ASCII decimal byte
    /// count (no leading zeros) and `type` is UTF-8 encoded.
    public static func pae(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out = Array("DSSEv1 \(type.count) ".utf8)
        out.reserveCapacity(out.count + type.count + payload.count + 24)
        out += type
        out += Array(" \(payload.count) ".utf8)
        out += payload
        return out
    }

    /// Sign `payload` as `payloadType` with `signer`; the envelope carries one signature whose
    /// `keyid` is `signer.keyID`.
    public static func sign(
        payload: [UInt8], payloadType: String = inTotoPayloadType, signer: any Signer
    ) throws -> DSSEEnvelope {
        let signature = try signer.sign(pae(payloadType: payloadType, payload: payload))
        return DSSEEnvelope(
            payload: payload, payloadType: payloadType,
            signatures: [DSSEEnvelope.Signature(keyid: signer.keyID, sig: signature)])
    }
}

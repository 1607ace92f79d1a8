/// A DSSE envelope: the payload bytes, their type, and signatures over their PAE.
public struct DSSEEnvelope: Hashable, Sendable {
    /// One signature and the (unauthenticated) hint of which key made it.
    public struct Signature: Hashable, Sendable {
        /// The key id hint; empty when the envelope had none. Never trusted for security decisions.
        public var keyid: String
        /// The raw signature bytes.
        public var sig: [UInt8]

        /// A signature with its key id hint (empty for none).
        public init(keyid: String, sig: [UInt8]) {
            self.keyid = keyid
            self.sig = sig
        }
    }

    /// The serialized body, exactly as signed.
    public var payload: [UInt8]
    /// The payload type, e.g. `application/vnd.in-toto+json`.
    public var payloadType: String
    /// The signatures, in envelope order.
    public var signatures: [Signature]

    /// An envelope from its parts.
    public init(payload: [UInt8], payloadType: String, signatures: [Signature]) {
        self.payload = payload
        self.payloadType = payloadType
        self.signatures = signatures
    }

    /// The PAE bytes every signature in this envelope must cover.
    public var pae: [UInt8] { DSSE.pae(payloadType: payloadType, payload: payload) }
}

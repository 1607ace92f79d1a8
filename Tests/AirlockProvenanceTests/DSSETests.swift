import AirlockCore
import Foundation
import Testing

@testable import AirlockProvenance

@Suite("DSSE")
struct DSSETests {
    /// protocol.md "Test Vectors".
    @Test func paeMatchesTheSpecVector() {
        let pae = DSSE.pae(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
        #expect(String(decoding: pae, as: UTF8.self) == "DSSEv1 29 http://example.com/HelloWorld 11 hello world")
    }

    /// LEN counts UTF-8 bytes, and an empty body still gets its trailing space.
    @Test func paeCountsBytesAndHandlesEmptyBodies() {
        let payload = Array(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)
        #expect(
            DSSE.pae(payloadType: "application/vnd.exämple+json", payload: payload)
                == TestSupport.bytes(
                    hex: "445353457631203239206170706c69636174696f6e2f766e642e6578c3a46d706c652b6a736f6e2034"
                        + "33207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d"))
        #expect(
            String(decoding: DSSE.pae(payloadType: DSSE.inTotoPayloadType, payload: []), as: UTF8.self)
                == "DSSEv1 28 application/vnd.in-toto+json 0 ")
    }

    /// The spec's ECDSA P-256 example (raw r‖s signature, RFC 6979) verifies with its key.
    @Test func specECDSAExampleVerifies() throws {
        // SPKI for the protocol.md key X, Y (uncompressed point), built independently.
        let spki = TestSupport.bytes(
            hex: "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
                + "67cd390f77aa359cb08c2235f652270493a9ed832b0abcc01f70954c0390d238"
                + "0c782bd54e269125a44f4433aff1432ce94e12bca73aa67ac80cea12608ddf74")
        let key = try PublicKey(derRepresentation: spki)
        #expect(key.algorithm == .ecdsaP256)
        let envelope = try DSSEEnvelope(
            json: Data(
                #"{"payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld", "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}"#
                    .utf8))
        #expect(envelope.payload == Array("hello world".utf8))
        #expect(envelope.signatures.count == 1 && envelope.signatures[0].keyid.isEmpty)
        #expect(key.isValidSignature(envelope.signatures[0].sig, for: envelope.pae))
        var tampered = envelope.pae
        tampered[tampered.count - 1] ^= 1
        #expect(!key.isValidSignature(envelope.signatures[0].sig, for: tampered))
    }

    /// Ed25519 is deterministic, so signing the DSSE test-vector PAE with RFC 8032 key "A" must
    /// reproduce the vector's signature exactly.
    @Test func ed25519VectorSignatureIsReproduced() throws {
        let key = try SigningKey(
            pem: TestSupport.ed25519PrivatePEM(
                seedHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(
            key.publicKey.derRepresentation.suffix(32)
                == TestSupport.bytes(hex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")[...])
        let payload = Array(#"{"_type":"https://in-toto.io/Statement/v1"}"#.utf8)
        let envelope = try DSSE.sign(payload: payload, payloadType: DSSE.inTotoPayloadType, signer: key)
        #expect(
            Data(envelope.signatures[0].sig).base64EncodedString()
                == "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==")
        let empty = try DSSE.sign(payload: [], signer: key)
        #expect(
            Data(empty.signatures[0].sig).base64EncodedString()
                == "gSggCAaTLTYyRH6FIDBem6meyIynsYy8RTHVzwx9tnTb7Bg/1jMWnuVgI/gffqmbsC2VX5/jHfkkDqsj7CDbDg==")
    }

    @Test func envelopeJSONRoundTrips() throws {
        let envelope = DSSEEnvelope(
            payload: [0xfb, 0xff, 0xbf, 0x3e, 0x3f], payloadType: DSSE.inTotoPayloadType,
            signatures: [.init(keyid: "abc", sig: [1, 2, 3, 4]), .init(keyid: "", sig: [0xff])])
        let line = envelope.jsonLine()
        #expect(!line.contains("\n"))
        #expect(
            line
                == #"{"payload":"+/+/Pj8=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"abc","sig":"AQIDBA=="},{"sig":"/w=="}]}"#
        )
        #expect(try DSSEEnvelope(json: Data(line.utf8)) == envelope)
    }

    /// Verifiers MUST accept URL-safe base64 (and we accept missing padding).
    @Test func urlSafeBase64IsAccepted() throws {
        let envelope = try DSSEEnvelope(
            json: Data(#"{"payload":"-_-_Pj8","payloadType":"t","signatures":[{"keyid":"A","sig":"_w"}]}"#.utf8))
        #expect(envelope.payload == [0xfb, 0xff, 0xbf, 0x3e, 0x3f])
        #expect(envelope.signatures[0].sig == [0xff])
    }

    @Test func parseErrorsDistinguishNotJSONFromNotDSSE() {
        #expect {
            try DSSEEnvelope(json: Data("hello".utf8))
        } throws: { error in
            let e = error as? AirlockError
            return e?.code == .invalidEnvelope && e?.message == "the envelope is not JSON" && e?.hint != nil
        }
        #expect {
            try DSSEEnvelope(json: Data(#"{"payloadType":"x"}"#.utf8))
        } throws: { error in
            let e = error as? AirlockError
            return e?.message == "the JSON is not a DSSE envelope: missing payload, signatures"
        }
        #expect {
            try DSSEEnvelope(json: Data(#"{"payloadType":"x","payload":"!!","signatures":[]}"#.utf8))
        } throws: { error in
            (error as? AirlockError)?.message.contains("`payload` is not a base64 string") == true
        }
    }
}

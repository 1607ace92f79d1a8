import Foundation
import Testing

@testable import AirlockSecrets

@Suite struct SecretMaskerTests {
    static let secret = "s3cr3t-Passw0rd!"

    /// Feeds `chunks` through a fresh masker and returns everything it emitted.
    func mask(_ chunks: [String], secrets: [String] = [secret]) -> String {
        let m = SecretMasker(secrets: secrets.map { SecretValue($0) })
        var out: [UInt8] = []
        for c in chunks { out += m.process(Array(c.utf8)) }
        out += m.flush()
        return String(decoding: out, as: UTF8.self)
    }

    func mask(bytes: [UInt8], splits: [Int], secrets: [String] = [secret]) -> [UInt8] {
        let m = SecretMasker(secrets: secrets.map { SecretValue($0) })
        var out: [UInt8] = []
        var start = 0
        for s in splits + [bytes.count] {
            out += m.process(Array(bytes[start..<s]))
            start = s
        }
        return out + m.flush()
    }

    @Test func masksTheRawValue() {
        #expect(mask(["token=\(Self.secret) done\n"]) == "token=[MASKED] done\n")
        #expect(mask(["\(Self.secret)\(Self.secret)"]) == "[MASKED][MASKED]")
        #expect(mask([Self.secret]) == "[MASKED]")
    }

    @Test func masksAValueSplitAcrossTwoWrites() {
        #expect(mask(["token=s3cr3t-Pa", "ssw0rd! done"]) == "token=[MASKED] done")
    }

    @Test func masksAtEverySplitOffset() {
        let text = Array("before \(Self.secret) middle \(Self.secret)after".utf8)
        let expected = Array("before [MASKED] middle [MASKED]after".utf8)
        for i in 0...text.count {
            #expect(mask(bytes: text, splits: [i]) == expected, "split at \(i)")
            for j in i...text.count {
                #expect(mask(bytes: text, splits: [i, j]) == expected, "split at \(i), \(j)")
            }
        }
        // One byte at a time.
        #expect(mask(bytes: text, splits: Array(1..<text.count)) == expected)
    }

    @Test func neverHoldsBackMoreThanTheLongestPatternMinusOne() {
        let m = SecretMasker(secrets: [SecretValue(Self.secret)])
        var emitted = 0
        var fed = 0
        let text = Array(String(repeating: "s3cr3t-Pass plain text ", count: 50).utf8)
        for b in text {
            emitted += m.process([b]).count
            fed += 1
            #expect(fed - emitted <= m.longestPattern - 1)
        }
        #expect(emitted + m.flush().count == text.count)
    }

    @Test func flushReturnsAnUnfinishedPrefixUnmasked() {
        let m = SecretMasker(secrets: [SecretValue(Self.secret)])
        let first = m.process(Array("log line s3cr3t-Pa".utf8))
        #expect(String(decoding: first, as: UTF8.self) == "log line ")
        #expect(String(decoding: m.flush(), as: UTF8.self) == "s3cr3t-Pa")
        // After a flush the masker starts afresh.
        #expect(String(decoding: m.process(Array("ssw0rd!".utf8)) + m.flush(), as: UTF8.self) == "ssw0rd!")
    }

    @Test func masksTheOutputOfTheBase64Tool() throws {
        let tool = ["/usr/bin/base64", "/bin/base64"].first { FileManager.default.isExecutableFile(atPath: $0) }
        var encoded = Data(Self.secret.utf8).base64EncodedString() + "\n"
        if let tool {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            let inPipe = Pipe(), outPipe = Pipe()
            p.standardInput = inPipe
            p.standardOutput = outPipe
            try p.run()
            inPipe.fileHandleForWriting.write(Data(Self.secret.utf8))
            try inPipe.fileHandleForWriting.close()
            let data = outPipe.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            encoded = String(decoding: data, as: UTF8.self)
        }
        #expect(encoded == "czNjcjN0LVBhc3N3MHJkIQ==\n")
        #expect(mask(["export X=\(encoded)"]) == "export X=[MASKED]\n")
        // base64url, unpadded (as in JWTs).
        let url = encoded.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "\n", with: "")
        #expect(mask(["jwt \(url)."]) == "jwt [MASKED].")
    }

    @Test(arguments: 0..<6)
    func masksTheSecretInsideALongerBase64StreamAtEveryAlignment(_ prefixLength: Int) {
        for secret in [Self.secret, "abcd", "ab>c?d~e"] {
            let prefix = String("Authorization: Basic user:".suffix(prefixLength))
            let text = Array((prefix + secret + "xyz tail").utf8)
            let n = secret.utf8.count
            for (encoded, name) in [
                (Data(text).base64EncodedString(), "base64"),
                (
                    Data(text).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                        .replacingOccurrences(of: "/", with: "_"), "base64url"
                ),
            ] {
                let chars = Array(encoded)
                // Characters that depend only on the secret's bits are masked; at most one
                // mixed character on each side stays.
                let first = (8 * prefixLength + 5) / 6
                let end = 8 * (prefixLength + n) / 6
                let expected = String(chars[0..<first]) + "[MASKED]" + String(chars[end...])
                #expect(mask([encoded], secrets: [secret]) == expected, "\(name) \(secret) after \(prefixLength)")
                // And split at every offset.
                let bytes = Array(encoded.utf8)
                for i in 0...bytes.count {
                    #expect(mask(bytes: bytes, splits: [i], secrets: [secret]) == Array(expected.utf8))
                }
            }
        }
    }

    @Test func masksURLEncodings() {
        let secret = "p@ss w/rd:&=+?"
        let upper = "p%40ss%20w%2Frd%3A%26%3D%2B%3F"
        #expect(mask(["?pw=\(upper)&x=1"], secrets: [secret]) == "?pw=[MASKED]&x=1")
        #expect(mask(["?pw=\(upper.lowercased())&x=1"], secrets: [secret]) == "?pw=[MASKED]&x=1")
        #expect(mask(["pw=p%40ss+w%2Frd%3A%26%3D%2B%3F"], secrets: [secret]) == "pw=[MASKED]")
        #expect(mask(["pw=p%40ss+w%2frd%3a%26%3d%2b%3f"], secrets: [secret]) == "pw=[MASKED]")
        // Foundation's own encoding of the query value.
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let foundation = secret.addingPercentEncoding(withAllowedCharacters: allowed)!
        #expect(mask(["u=\(foundation)"], secrets: [secret]) == "u=[MASKED]")
        // encodeURIComponent leaves !'()* alone.
        #expect(mask(["q=it's(ok)*%20x"], secrets: ["it's(ok)* x"]) == "q=[MASKED]")
    }

    @Test func masksHex() {
        let hexLower = Self.secret.utf8.map { String(format: "%02x", $0) }.joined()
        #expect(mask(["dump: \(hexLower)\n"]) == "dump: [MASKED]\n")
        #expect(mask(["DUMP: \(hexLower.uppercased())\n"]) == "DUMP: [MASKED]\n")
    }

    @Test func masksJSONEscapedValues() throws {
        let secret = "a\"quoted\\pa/th\nline\ttab"
        let data = try JSONEncoder().encode(["token": secret])
        let json = String(decoding: data, as: UTF8.self)
        #expect(!json.contains(secret))
        #expect(mask([json], secrets: [secret]) == "{\"token\":\"[MASKED]\"}")
        // Without escaped slashes, too.
        let e = JSONEncoder()
        e.outputFormatting = .withoutEscapingSlashes
        let plain = String(decoding: try e.encode([secret]), as: UTF8.self)
        #expect(mask([plain], secrets: [secret]) == "[\"[MASKED]\"]")
        // Python's json.dumps escapes non-ASCII as \uXXXX (with surrogate pairs).
        #expect(mask(["{\"pw\": \"p\\u00e4ssw\\ud83d\\udd11rd\"}"], secrets: ["pässw🔑rd"]) == "{\"pw\": \"[MASKED]\"}")
    }

    @Test func overlappingSecretsBecomeOneMask() {
        #expect(mask(["xx abcdefgh-ijkl yy"], secrets: ["abcdefgh", "efgh-ijkl"]) == "xx [MASKED] yy")
        #expect(mask(["my password1234 here"], secrets: ["password1234", "word1"]) == "my [MASKED] here")
        #expect(mask(["a word1 b"], secrets: ["password1234", "word1"]) == "a [MASKED] b")
        // Split inside the overlap.
        let text = Array("xx abcdefgh-ijkl yy".utf8)
        for i in 0...text.count {
            #expect(
                mask(bytes: text, splits: [i], secrets: ["abcdefgh", "efgh-ijkl"]) == Array("xx [MASKED] yy".utf8))
        }
    }

    @Test func leavesUnrelatedTextAlone() {
        let log = """
            Compiling hello.c
            s3cr3t is not the secret, nor is Passw0rd or s3cr3t-Passw0rd? (note the '?')
            hex 73336372, base64 czNjcjN0, everything fine.

            """
        #expect(mask([log]) == log)
        let bytes = Array(log.utf8)
        #expect(mask(bytes: bytes, splits: Array(stride(from: 7, to: bytes.count, by: 7))) == bytes)
    }

    @Test func ignoresPatternsShorterThanFourBytes() {
        #expect(mask(["a cat sat"], secrets: ["a", "at"]) == "a cat sat")
        #expect(SecretMasker(secrets: [SecretValue("abc"), SecretValue("")]).isEmpty)
        // Four bytes are masked raw; its short encodings too only when ≥ 4 bytes.
        #expect(mask(["key=abcd;"], secrets: ["abcd"]) == "key=[MASKED];")
        // Even with nothing to mask the stream passes through unchanged.
        #expect(mask(["abc"], secrets: ["abc"]) == "abc")
    }

    @Test func randomTextAndRandomChunksMatchTheOneShotResult() {
        var rng = SystemRandomNumberGenerator()
        let secrets = ["hunter2hunter2", "ab12", "zz\"quote\"zz", "token with spaces"]
        for _ in 0..<30 {
            var text: [UInt8] = []
            for _ in 0..<40 {
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    text += Array(secrets.randomElement(using: &rng)!.utf8)
                } else {
                    text += (0..<Int.random(in: 0..<12, using: &rng)).map { _ in
                        Array("abhunter2 zq\"1".utf8).randomElement(using: &rng)!
                    }
                }
            }
            let oneShot = mask(bytes: text, splits: [], secrets: secrets)
            var splits: [Int] = []
            var at = 0
            while true {
                at += Int.random(in: 1..<9, using: &rng)
                if at >= text.count { break }
                splits.append(at)
            }
            let chunked = mask(bytes: text, splits: splits, secrets: secrets)
            #expect(chunked == oneShot)
            for s in secrets { #expect(!contains(chunked, Array(s.utf8))) }
        }
    }

    @Test func handlesMegabytesOfLog() {
        let secrets = (0..<20).map { SecretValue("secret-number-\($0)-\(UUID().uuidString)") }
        let m = SecretMasker(secrets: secrets)
        let line = Array("[build] compiling module 0123456789abcdef ABCDEF / + = % \\\" json {}\n".utf8)
        var chunk: [UInt8] = []
        while chunk.count < 64 * 1024 { chunk += line }
        let start = Date()
        var total = 0
        for _ in 0..<32 { total += m.process(chunk).count }
        total += m.flush().count
        let seconds = Date().timeIntervalSince(start)
        #expect(total == chunk.count * 32)
        #expect(seconds < 30, "2 MiB took \(seconds)s")
    }
}

import Testing

@testable import AirlockGitLab

@Suite struct CRC32Tests {
    @Test func knownVectors() {
        #expect(crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(crc32([]) == 0)
        #expect(crc32(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
        #expect(crc32([0]) == 0xD202_EF8D)
    }

    @Test func checksumIsGitLabsFormat() {
        #expect(gitLabChecksum(Array("123456789".utf8)) == "crc32:cbf43926")
        #expect(gitLabChecksum([0]) == "crc32:d202ef8d")
        #expect(gitLabChecksum([]) == "crc32:00000000")
    }

    @Test func incrementalEqualsWhole() {
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var crc = CRC32()
        crc.update(data[..<1234])
        crc.update(data[1234...])
        #expect(crc.value == crc32(data))
    }
}

@Suite struct RetryPolicyTests {
    @Test func retryAfterSecondsAndDates() {
        #expect(RetryPolicy.serverDelay(retryAfter: "3", rateLimitReset: nil) == 3)
        let now = RetryPolicy.parseHTTPDate("Wed, 21 Oct 2026 07:28:00 GMT")!
        #expect(
            RetryPolicy.serverDelay(retryAfter: "Wed, 21 Oct 2026 07:28:05 GMT", rateLimitReset: nil, now: now) == 5)
        #expect(
            RetryPolicy.serverDelay(retryAfter: nil, rateLimitReset: "Wed, 21 Oct 2026 07:28:10 GMT", now: now) == 10)
        #expect(RetryPolicy.serverDelay(retryAfter: "soon", rateLimitReset: nil) == nil)
        #expect(RetryPolicy.serverDelay(retryAfter: nil, rateLimitReset: nil) == nil)
    }

    @Test func backoffDoublesUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 1, maxDelay: 5, jitter: 0)
        #expect((1...5).map { policy.backoff(retry: $0) } == [1, 2, 4, 5, 5])
        let jittered = RetryPolicy(maxAttempts: 10, baseDelay: 1, maxDelay: 60, jitter: 0.5)
        for _ in 0..<50 {
            let delay = jittered.backoff(retry: 3)
            #expect(delay >= 2 && delay <= 6)
        }
    }

    @Test func advertisesNoImagesOrServices() {
        let info = GitLabRunnerInfo.airlockDefault(version: "1.0")
        #expect(info.features["image"] == false)
        #expect(info.features["services"] == false)
        #expect(info.features["trace_checksum"] == true)
        #expect(info.executor == "airlock" && info.shell == "sh" && info.platform == "linux")
    }
}

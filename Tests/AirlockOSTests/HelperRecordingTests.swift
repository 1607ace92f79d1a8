import Testing

@testable import AirlockOS

@Suite("HelperRecording")
struct HelperRecordingTests {
    /// The records' tokens, op codes shown by name (see `HelperConfigTests.tokens`).
    func tokens(_ c: HelperConfig) -> [String] { HelperConfigTests.tokens(c.encoded()) }

    @Test("no recording: no record tokens; recording: the output path and each argument call")
    func encoding() throws {
        var c = HelperConfig(
            uidMap: "0 1 1\n", gidMap: "0 1 1\n", setupUID: 0, setupGID: 0, jobUID: 0, jobGID: 0,
            arguments: ["/bin/true"], environment: [])
        #expect(!tokens(c).contains("record"))
        c.recording = HelperRecording(
            outputPath: "/state/record-1.txt",
            argumentCalls: [.init(number: 56, mask: 1), .init(number: 41, mask: 3)])
        let t = tokens(c)
        let i = try #require(t.firstIndex(of: "record"))
        #expect(
            Array(t[i...]) == ["record", "/state/record-1.txt", "record_args", "56", "1", "record_args", "41", "3"])
        try c.validate()
    }
}

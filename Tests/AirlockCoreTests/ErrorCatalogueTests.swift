import Testing

@testable import AirlockCore

@Suite("error catalogue")
struct ErrorCatalogueTests {
    @Test func everyCodeIsNamespacedAndUnique() {
        let all = AirlockError.Code.all
        #expect(Set(all).count == all.count, "a code is listed twice")
        for code in all {
            let parts = code.rawValue.split(separator: ".", omittingEmptySubsequences: false)
            #expect(parts.count == 2, "\(code) is not area.name")
            #expect(
                parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLowercase || $0 == "-" } },
                "\(code) is not lower-case words")
        }
        // One namespace per area: the old `secrets.*` beside `secret.*` is gone.
        let areas = Set(all.map { $0.rawValue.split(separator: ".")[0] })
        #expect(!areas.contains("secrets"))
        #expect(
            areas.isSubset(of: [
                "cli", "file", "host", "airlock", "state", "sandbox", "job", "secret", "vault", "key", "dsse", "gitlab",
            ]))
    }

    @Test func exitStatusComesFromTheCode() {
        #expect(AirlockError.Code.sandboxExec.exitStatus == 127)
        for code in AirlockError.Code.all where code != .sandboxExec { #expect(code.exitStatus == 2, "\(code)") }
    }
}

import AirlockCore
import Foundation
import Testing

@testable import AirlockProfile

@Suite struct RecordedProfileTests {
    let sample = RecordedProfile(
        base: "default", commands: ["sh -c 'cc -o hello hello.c'"], calls: ["read", "write", "execve", "exit_group"],
        argumentRules: [
            "clone": [[SeccompArg(index: 0, op: .eq, value: 0x0120_0011)]],
            "socket": [
                [
                    SeccompArg(index: 0, op: .maskedEq, value: 0xffff_ffff, valueTwo: 1),
                    SeccompArg(index: 1, op: .maskedEq, value: 0xffff_ffff, valueTwo: 0x8_0001),
                ]
            ],
        ])

    @Test("the written profile loads, extends its base and is an allow-list of what was seen")
    func loads() throws {
        let t = try TempProfiles([
            "base.yaml": baseYAML,
            "rec.yaml": sample.yaml(name: "rec").replacingOccurrences(
                of: "extends: \"default\"", with: "extends: \"base\""),
        ])
        defer { t.cleanup() }
        let p = try t.loader().load("rec").profile
        #expect(p.lineage == ["base", "rec"])
        #expect(p.seccomp.defaultAction == .errno(1))
        let rules = try p.seccomp.normalizedRules()
        let decide = { (n: String, a: [UInt64]) in
            ProfileLinter.decide(n, args: a, rules: rules, default: p.seccomp.defaultAction)
        }
        #expect(decide("read", []) == .allow)
        #expect(decide("ptrace", []) == .errno(1))
        #expect(decide("socket", [2, 1, 0]) == .errno(1))
        #expect(decide("socket", [1, 0x8_0001, 0]) == .allow)
        #expect(decide("socket", [0xffff_ffff_0000_0001, 0x8_0001, 0]) == .allow)  // only the int's 32 bits count
        #expect(decide("clone", [0x0120_0011]) == .allow)
        #expect(decide("clone", [0x1000_0011]) == .errno(1))
        #expect(p.filesystem.binds.map(\.source) == ["/usr", "/lib"])
    }

    @Test("the command is in a comment; a partial recording says so")
    func comments() throws {
        var partial = sample
        partial.partialReasons = ["the command failed (exit status 1)"]
        let text = partial.yaml(name: "rec")
        #expect(text.contains("# command: sh -c 'cc -o hello hello.c'"))
        #expect(text.contains("# PARTIAL: the command failed (exit status 1)"))
        #expect(text.contains("description: \"PARTIAL recording"))
    }

    @Test("parse reads a recording back; merge is the union")
    func parseAndMerge() throws {
        let back = try RecordedProfile.parse(text: sample.yaml(name: "rec"), file: "rec.yaml")
        #expect(back.base == "default")
        #expect(back.calls == sample.calls)
        #expect(back.argumentRules == sample.argumentRules)
        #expect(back.commands == sample.commands)
        var other = RecordedProfile(
            base: "default", commands: ["true"], calls: ["clone", "brk"],
            partialReasons: ["x"])
        other.argumentRules["socket"] = [[SeccompArg(index: 0, op: .eq, value: 1)]]
        var merged = back
        try merged.merge(other)
        #expect(merged.calls == sample.calls.union(["clone", "brk"]))
        #expect(merged.argumentRules["clone"] == nil)  // allowed outright by the other recording
        #expect(merged.argumentRules["socket"]?.count == 2)
        #expect(merged.commands.count == 2 && merged.isPartial)
        #expect(throws: AirlockError.self) { try merged.merge(RecordedProfile(base: "strict")) }
    }

    @Test("a profile that is not a recording cannot be merged")
    func notARecording() throws {
        let text = try String(contentsOfFile: repoRoot + "/Profiles/strict.yaml", encoding: .utf8)
        #expect(throws: AirlockError.self) { try RecordedProfile.parse(text: text, file: "strict.yaml") }
    }
}

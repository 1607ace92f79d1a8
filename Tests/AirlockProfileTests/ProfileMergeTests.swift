import AirlockCore
import Testing

@testable import AirlockProfile

@Suite struct ProfileMergeTests {
    @Test func childOverridesAndAppends() throws {
        let t = try TempProfiles([
            "base.yaml": baseYAML,
            "child.yaml": """
            name: child
            extends: base
            seccomp:
              rules:
                - {names: [bpf], action: kill, why: child rule}
            filesystem:
              binds:
                - {src: /opt/lib, dst: /lib, mode: rw}
                - {src: /opt, optional: true}
              symlinks:
                - {path: /bin, target: opt/bin}
              tmpSize: 1GiB
            network: host
            limits: {pids: 50, cpus: 1.5, timeout: unlimited}

            """,
        ])
        defer { t.cleanup() }
        let loaded = try t.loader().load("child")
        let p = loaded.profile
        #expect(p.name == "child")
        #expect(p.description == "base profile")
        #expect(p.lineage == ["base", "child"])
        #expect(loaded.sources.map(\.name) == ["base", "child"])
        #expect(loaded.sourceText[0] == baseYAML)
        #expect(p.seccomp.defaultAction == .allow)
        #expect(p.seccomp.rules.map(\.names) == [["ptrace"], ["bpf"]])
        #expect(p.seccomp.rules.map(\.action) == [.errno(1), .killProcess])
        #expect(
            p.filesystem.binds == [
                BindMount(source: "/usr", destination: "/usr"),
                BindMount(source: "/opt/lib", destination: "/lib", readOnly: false),
                BindMount(source: "/opt", destination: "/opt", optional: true),
            ])
        #expect(p.filesystem.symlinks == [SymlinkSpec(target: "opt/bin", path: "/bin")])
        #expect(p.filesystem.tmpSize == 1 << 30)
        #expect(p.filesystem.rootSize == 64 << 20)
        #expect(p.network == .host)
        #expect(p.limits.memory == 1 << 30)
        #expect(p.limits.pids == 50)
        #expect(p.limits.cpus == 1.5)
        #expect(p.limits.timeout == nil)
        #expect(p.limits.nofile == 4096)
    }

    @Test func extendsListIsResolvedBaseFirstAndADiamondLoadsItsBaseOnce() throws {
        let t = try TempProfiles([
            "base.yaml": baseYAML,
            "a.yaml": "extends: base\nseccomp: {rules: [{names: [bpf], action: errno}]}\nlimits: {pids: 1}\n",
            "b.yaml": "extends: [base]\nseccomp: {rules: [{names: [kcmp], action: errno}]}\nlimits: {pids: 2}\n",
            "top.yaml": "extends: [a, b]\ndescription: top\n",
        ])
        defer { t.cleanup() }
        let p = try t.loader().load("top").profile
        #expect(p.lineage == ["base", "a", "b", "top"])
        #expect(p.seccomp.rules.map(\.names) == [["ptrace"], ["bpf"], ["kcmp"]])
        #expect(p.limits.pids == 2)
        #expect(p.description == "top")
    }

    @Test func childMayChangeTheDefaultActionAndErrno() throws {
        let t = try TempProfiles([
            "base.yaml": baseYAML,
            "deny.yaml": "extends: base\nseccomp: {defaultAction: errno, defaultErrno: EACCES}\n",
            "deny2.yaml": "extends: deny\nseccomp: {defaultErrno: 38}\n",
            "bad.yaml": "extends: base\nseccomp: {defaultErrno: 38}\n",
        ])
        defer { t.cleanup() }
        #expect(try t.loader().load("deny").profile.seccomp.defaultAction == .errno(13))
        #expect(try t.loader().load("deny2").profile.seccomp.defaultAction == .errno(38))
        let e = try #require(throws: AirlockError.self) { try t.loader().load("bad") }
        #expect(
            e.message.contains("bad.yaml:2:25: seccomp.defaultErrno is set but the inherited defaultAction is allow"))
    }

    @Test func cyclesNameTheChain() throws {
        let t = try TempProfiles([
            "a.yaml": "extends: b\nseccomp: {defaultAction: allow}\n",
            "b.yaml": "extends: c\n",
            "c.yaml": "extends: [a]\n",
        ])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load("a") }
        #expect(e.code == .invalidFile)
        #expect(
            e.message
                == "\(t.dir)/c.yaml:1:11: profile cycle: \(t.dir)/a.yaml → \(t.dir)/b.yaml → \(t.dir)/c.yaml → \(t.dir)/a.yaml"
        )
        #expect(e.hint?.contains("extends") == true)
    }

    @Test func selfExtensionIsACycle() throws {
        let t = try TempProfiles(["a.yaml": "extends: ./a.yaml\nseccomp: {defaultAction: allow}\n"])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load(t.dir + "/a.yaml") }
        #expect(e.message.contains("profile cycle: \(t.dir)/a.yaml → \(t.dir)/a.yaml"))
    }

    @Test func missingParentNamesFileAndChain() throws {
        let t = try TempProfiles([
            "child.yaml": "extends: middle\n",
            "middle.yaml": "name: middle\nextends:\n  - base\n  - nosuch\n",
            "base.yaml": baseYAML,
        ])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load("child") }
        #expect(e.code == .missingFile)
        #expect(e.message.hasPrefix("\(t.dir)/middle.yaml:4:5: profile 'nosuch' not found"))
        #expect(e.message.contains("(chain: \(t.dir)/child.yaml → \(t.dir)/middle.yaml)"))
        #expect(e.hint?.contains("base, child, middle") == true)
    }

    @Test func missingTopLevelProfileSuggestsANameAndFallsBackToEmbedded() throws {
        let t = try TempProfiles([:])
        defer { t.cleanup() }
        let loader = t.loader(embedded: EmbeddedProfiles.all)
        let e = try #require(throws: AirlockError.self) { try loader.load("strcit") }
        #expect(e.message.hasPrefix("profile 'strcit' not found (did you mean 'strict'?)"))
        #expect(try loader.load("strict").profile.name == "strict")
        let missingFile = try #require(throws: AirlockError.self) { try loader.load("./nope.yaml") }
        #expect(missingFile.code == .missingFile)
    }

    @Test func searchPathsOverrideEmbeddedProfiles() throws {
        let t = try TempProfiles([
            "default.yaml": baseYAML.replacingOccurrences(of: "name: base", with: "name: default")
        ])
        defer { t.cleanup() }
        let p = try t.loader(embedded: EmbeddedProfiles.all).load("network-host").profile
        #expect(p.lineage == ["default", "network-host"])
        #expect(p.seccomp.rules.map(\.names) == [["ptrace"]])
    }

    @Test func aBaseWithoutDefaultActionIsAnError() throws {
        let t = try TempProfiles(["lonely.yaml": "network: none\n"])
        defer { t.cleanup() }
        let e = try #require(throws: AirlockError.self) { try t.loader().load("lonely") }
        #expect(e.message.contains("no seccomp.defaultAction"))
    }

    @Test func nameDifferentFromFileIsAWarning() throws {
        let t = try TempProfiles(["file.yaml": "name: other\nseccomp: {defaultAction: allow}\n"])
        defer { t.cleanup() }
        let loaded = try t.loader().load("file")
        #expect(loaded.profile.name == "other")
        #expect(
            loaded.warnings == [
                "\(t.dir)/file.yaml:1:7: profile is named 'other' but the file is '\(t.dir)/file.yaml'; using 'other'"
            ])
    }
}

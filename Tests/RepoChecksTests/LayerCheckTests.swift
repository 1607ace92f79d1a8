import Foundation
import Testing

/// `scripts/check-layers` (run by `make lint`) against the real repo, a copy of it with a planted
/// forbidden import or dependency, and a small fake package.
@Suite("layer check")
struct LayerCheckTests {
    static let repoRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs the check on `root` (the script always comes from this repo).
    static func check(_ root: String, _ extra: [String] = []) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", repoRoot + "/scripts/check-layers", "--root", root] + extra
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// A temporary directory holding a copy of this repo's Sources, Package.swift and Layers.txt.
    static func copyOfRepo() throws -> String {
        let dir = NSTemporaryDirectory() + "airlock-layers-\(UUID().uuidString.prefix(8))"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // cp, not FileManager.copyItem: that also copies the owner, which an ordinary user
        // (the unprivileged test run) may not set.
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-R"] + ["Sources", "Package.swift", "Layers.txt"].map { repoRoot + "/" + $0 } + [dir]
        try cp.run()
        cp.waitUntilExit()
        guard cp.terminationStatus == 0 else {
            try? fm.removeItem(atPath: dir)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: dir])
        }
        return dir
    }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("the repo's imports and Package.swift agree with Layers.txt")
    func repoPasses() throws {
        let r = try Self.check(Self.repoRoot)
        #expect(r.status == 0, "\(r.output)")
    }

    @Test("a planted `import AirlockOS` in the CLI fails, naming the file, line and module")
    func plantedImportInCLI() throws {
        let dir = try Self.copyOfRepo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("import Foundation\nimport AirlockOS\n", to: dir + "/Sources/AirlockCLI/Planted.swift")
        let r = try Self.check(dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(
            r.output.contains(
                "Sources/AirlockCLI/Planted.swift:2: 'import AirlockOS': AirlockCLI (cli) may not import AirlockOS (os)"
            ),
            "\(r.output)")
        #expect(r.output.contains("fix: "), "\(r.output)")
    }

    @Test("a planted `@testable import` of a higher layer in the runtime fails")
    func plantedUpwardImportInSandbox() throws {
        let dir = try Self.copyOfRepo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/Sources/AirlockSandbox/Sandbox.swift"
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try Self.write("@testable import AirlockAgent\n" + text, to: file)
        let r = try Self.check(dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(
            r.output.contains(
                "Sources/AirlockSandbox/Sandbox.swift:1: '@testable import AirlockAgent': AirlockSandbox (runtime) may not import AirlockAgent (orchestration)"
            ), "\(r.output)")
    }

    @Test("a dependency in Package.swift that the table forbids fails")
    func plantedDependency() throws {
        let dir = try Self.copyOfRepo()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let manifest = dir + "/Package.swift"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        let line = #".executableTarget(name: "airlock", dependencies: ["AirlockCLI"])"#
        #expect(text.contains(line))
        try Self.write(
            text.replacingOccurrences(
                of: line, with: #".executableTarget(name: "airlock", dependencies: ["AirlockCLI", "AirlockOS"])"#),
            to: manifest)
        let r = try Self.check(dir)
        #expect(r.status == 1, "\(r.output)")
        #expect(
            r.output.contains("Package.swift: target airlock (cli) declares a dependency on AirlockOS"), "\(r.output)")
    }

    /// A two-module package described by `swift package dump-package`-style JSON, so the cases
    /// below need no Swift manifest.
    static func fakePackage(table: String, bottomImports: String, topImports: String, topDeps: [String]) throws
        -> String
    {
        let dir = NSTemporaryDirectory() + "airlock-layers-fake-\(UUID().uuidString.prefix(8))"
        try write(table, to: dir + "/Layers.txt")
        try write(bottomImports, to: dir + "/Sources/Bottom/Bottom.swift")
        try write(topImports, to: dir + "/Sources/Top/Top.swift")
        let deps = topDeps.map { #"{"byName": ["\#($0)", null]}"# }.joined(separator: ", ")
        let json = """
            {"targets": [
              {"name": "Bottom", "type": "regular", "path": null, "dependencies": []},
              {"name": "Top", "type": "regular", "path": null, "dependencies": [\(deps)]},
              {"name": "TopTests", "type": "test", "path": null, "dependencies": [{"byName": ["Top", null]}]}
            ]}
            """
        try write(json, to: dir + "/package.json")
        return dir
    }

    @Test("an allowed import that Package.swift does not declare fails; comments and strings are not imports")
    func undeclaredImport() throws {
        let table = "layers: low high\nalways: Foundation\nBottom low\nTop high Bottom\n  Logging  # continued\n"
        let dir = try Self.fakePackage(
            table: table, bottomImports: "import Foundation\n",
            topImports:
                "import Bottom\n// import Secret\n/*\nimport Secret\n*/\nlet s = \"\"\"\nimport Secret\n\"\"\"\nimport Logging\n",
            topDeps: ["Bottom"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.check(dir, ["--package-json", dir + "/package.json"])
        #expect(r.status == 1, "\(r.output)")
        #expect(
            r.output.contains("Sources/Top/Top.swift:9: 'import Logging': Top imports Logging, but Package.swift"),
            "\(r.output)")
        #expect(!r.output.contains("Secret"), "\(r.output)")
    }

    @Test("a table edge that points up, and a module under Sources missing from the table, fail")
    func badTable() throws {
        let table = "layers: low high\nBottom low Top\nTop high\n"
        let dir = try Self.fakePackage(
            table: table, bottomImports: "import Top\n", topImports: "import Foundation\n", topDeps: [])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("import Foundation\n", to: dir + "/Sources/Stray/Stray.swift")
        let r = try Self.check(dir, ["--package-json", dir + "/package.json"])
        #expect(r.status == 1, "\(r.output)")
        #expect(
            r.output.contains("Layers.txt:2: Bottom (low) may import Top (high), an edge that points up"), "\(r.output)"
        )
        #expect(r.output.contains("Sources/Stray: a directory that is neither a target"), "\(r.output)")
    }
}

import Foundation
import Testing

@testable import AirlockJob
@testable import AirlockSandbox

/// The toolchain description kept between `airlock run` processes.
@Suite("ToolchainInspector cache")
struct ToolchainCacheTests {
    static func withState(_ body: (StateDirectory) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "airlock-toolchain-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(StateDirectory(path: dir))
    }

    static let sample = ToolchainInspector.Description(
        packages: [(name: "gcc-12", version: "12.2.0-14"), (name: "libc6", version: "2.36-9+deb12u14")],
        compilerVersion: "cc (Debian 12.2.0-14) 12.2.0")

    @Test("a description round-trips through the cache file for the same fingerprint only")
    func roundTrip() throws {
        try Self.withState { state in
            let file = state.path + "/toolchain"
            try Data(ToolchainInspector.encode(Self.sample, fingerprint: "fp 1\nfp 2").utf8).write(
                to: URL(fileURLWithPath: file))
            #expect(ToolchainInspector.load(file, fingerprint: "fp 1\nfp 2") == Self.sample)
            #expect(ToolchainInspector.load(file, fingerprint: "fp 1\nfp 3") == nil)
            #expect(ToolchainInspector.load(file, fingerprint: "fp 1") == nil)
            #expect(ToolchainInspector.load(state.path + "/missing", fingerprint: "fp 1\nfp 2") == nil)
        }
    }

    @Test("the fingerprint names the package database and each tool's resolved file")
    func fingerprint() {
        let f = ToolchainInspector.fingerprint()
        #expect(f.hasPrefix("/var/lib/dpkg/status "))
        #expect(f.contains("/bin/sh"))
        #expect(f == ToolchainInspector.fingerprint())
    }

    @Test("the first process inspects and writes a 0600 file; the next one reads it instead of asking dpkg")
    func cachedAcrossProcesses() throws {
        try Self.withState { state in
            let first = ToolchainInspector.cachedOrInspected(state: state)
            let file = state.path + "/" + ToolchainInspector.cacheName
            var st = stat()
            #expect(lstat(file, &st) == 0 && st.st_mode & 0o777 == 0o600)
            #expect(ToolchainInspector.load(file, fingerprint: ToolchainInspector.fingerprint()) == first)
            // A description planted for the current fingerprint is returned as-is: nothing ran.
            try FileManager.default.removeItem(atPath: file)
            try Data(ToolchainInspector.encode(Self.sample, fingerprint: ToolchainInspector.fingerprint()).utf8)
                .write(to: URL(fileURLWithPath: file))
            #expect(ToolchainInspector.cachedOrInspected(state: state) == Self.sample)
            // A stale one (another fingerprint) is replaced by a fresh inspection.
            try Data(ToolchainInspector.encode(Self.sample, fingerprint: "stale").utf8).write(
                to: URL(fileURLWithPath: file))
            #expect(ToolchainInspector.cachedOrInspected(state: state) == first)
        }
    }

    @Test("the batched dpkg query finds the same packages as one query per tool")
    func batchedQueryMatchesPerTool() throws {
        guard access("/usr/bin/dpkg-query", X_OK) == 0 else { return }
        var owners = Set<String>(["libc6"])
        for tool in ToolchainInspector.tools {
            guard let real = realpath(tool, nil) else { continue }
            defer { free(real) }
            if let out = ToolchainInspector.query(["/usr/bin/dpkg-query", "-S", String(cString: real)]),
                let pkg = out.split(separator: ":").first
            {
                owners.insert(String(pkg))
            }
        }
        let names = Set(ToolchainInspector.inspect().packages.map(\.name))
        #expect(names == owners)
    }
}

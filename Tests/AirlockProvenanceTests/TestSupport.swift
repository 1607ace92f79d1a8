import AirlockCore
import Foundation

@testable import AirlockProvenance

/// Helpers shared by the provenance tests.
enum TestSupport {
    /// A fresh temporary directory, removed by the caller via `defer`.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-prov-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(hex.utf8)[...]
        while chars.count >= 2 {
            out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
            chars = chars.dropFirst(2)
        }
        return out
    }

    /// PKCS#8 PEM for a raw Ed25519 seed (RFC 8410 layout), built independently of the module.
    static func ed25519PrivatePEM(seedHex: String) -> String {
        let der = bytes(hex: "302e020100300506032b657004220420" + seedHex)
        return "-----BEGIN PRIVATE KEY-----\n\(Data(der).base64EncodedString())\n-----END PRIVATE KEY-----\n"
    }

    /// Run a command through /usr/bin/env; nil when it cannot start.
    static func run(_ arguments: [String]) -> (status: Int32, output: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func commandSucceeds(_ arguments: [String]) -> Bool { run(arguments)?.status == 0 }

    /// A Python tool: from the private venv `scripts/install-python-tools.sh` makes
    /// (`.build/pytools/bin`) when present, else from PATH.
    static func pythonTool(_ name: String) -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let venv = root.appendingPathComponent(".build/pytools/bin/\(name)").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : name
    }

    /// A fixed record used by the golden test and the verifier tests.
    static func record(outputs: [FileDigest]? = nil) -> BuildRecord {
        BuildRecord(
            jobName: "hello",
            job: .object([
                "name": .string("hello"),
                "run": .string("make dist"),
                "secrets": .array([.string("NPM_TOKEN")]),
                "timeout": .string("10m"),
            ]),
            source: .init(
                repository: "https://github.com/acme/hello", ref: "refs/heads/main",
                commit: "8A9F1C2D3E4B5A69788796A5B4C3D2E1F0011223"),
            profileName: "default",
            profileDigest: "1111111111111111111111111111111111111111111111111111111111111111",
            seccompDigest: "2222222222222222222222222222222222222222222222222222222222222222",
            limits: .object(["memory": .uint(2_147_483_648), "pids": .int(512)]),
            runnerVersion: "0.3.0",
            inputs: [
                FileDigest(name: "vendor.tar", sha256: String(repeating: "4", count: 64), size: 10),
                FileDigest(name: "config.json", sha256: String(repeating: "3", count: 64), size: 2),
            ],
            toolchain: [
                .init(
                    name: "rootfs", uri: "file:///usr", digest: ["sha256": String(repeating: "5", count: 64)],
                    version: "debian-12", packages: [("make", "4.3-4.1"), ("gcc-12", "12.2.0-14")]),
                .init(name: "bare", digest: ["sha256": String(repeating: "6", count: 64)]),
            ],
            builderID: "https://airlock.example/builders/host-1",
            invocationID: "0e7c2a9c-4a4f-4bbf-9d3c-6c1a1d6f2b10",
            startedOn: Date(timeIntervalSince1970: 1_714_564_800.75),
            finishedOn: Date(timeIntervalSince1970: 1_714_565_000),
            log: FileDigest(name: "job.log", sha256: String(repeating: "7", count: 64), size: 300),
            exitCode: 0,
            resourceUsage: .object(["cpuSeconds": .double(1.5), "peakMemoryBytes": .uint(52_428_800)]),
            sbom: FileDigest(name: "sbom.spdx.json", sha256: String(repeating: "8", count: 64), size: 900),
            outputs: outputs ?? [
                FileDigest(
                    name: "dist/hello", sha256: "B94D27B9934D3E08A52E52D7DA7DABFAC484EFE37A5380EE9088F7ACE2EFCDE9",
                    size: 11),
                FileDigest(
                    name: "dist/hello.1", sha256: "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
                    size: 12),
            ],
            secretNames: ["NPM_TOKEN"])
    }
}

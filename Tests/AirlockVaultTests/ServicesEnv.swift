import Foundation

/// `.build/services/env`, written by `scripts/start-services.sh`; nil when the services are
/// not up (then the end-to-end tests are skipped).
struct ServicesEnv: Sendable {
    var values: [String: String]

    static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let current: ServicesEnv? = {
        let file = repoRoot.appendingPathComponent(".build/services/env")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let eq = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<eq])] = String(trimmed[trimmed.index(after: eq)...])
        }
        let env = ServicesEnv(values: values)
        return env.baoAddress.isEmpty ? nil : env
    }()

    subscript(_ key: String) -> String { values[key] ?? "" }
    var baoAddress: String { self["AIRLOCK_TEST_BAO_ADDR"] }
    var rootToken: String { self["AIRLOCK_TEST_BAO_ROOT_TOKEN"] }
    var roleID: String { self["AIRLOCK_TEST_APPROLE_ROLE_ID"] }
    var secretID: String { self["AIRLOCK_TEST_APPROLE_SECRET_ID"] }
    var pgHost: String { self["AIRLOCK_TEST_PG_HOST"] }
    var pgPort: String { self["AIRLOCK_TEST_PG_PORT"] }
    var pgDatabase: String { self["AIRLOCK_TEST_PG_DB"] }
    var bao: String { self["AIRLOCK_TEST_BAO_BIN"] }
    var psql: String { self["AIRLOCK_TEST_PSQL_BIN"] }
}

/// Run a program; returns its exit status and combined output.
@discardableResult
func run(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A loopback TCP port that nothing listens on (bound, then closed).
func closedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
    }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

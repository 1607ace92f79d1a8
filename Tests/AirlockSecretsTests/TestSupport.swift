import Foundation

@testable import AirlockSecrets

/// A fresh directory under the temporary directory, removed by `cleanup()`.
struct TempDir {
    let path: String
    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent("airlock-secrets-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Permission bits of `path`.
func permissions(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

/// Every regular file below `dir`, recursively.
func filesBelow(_ dir: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
    return e.compactMap { item -> String? in
        let p = "\(dir)/\(item as! String)"
        var isDir: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: p, isDirectory: &isDir)
        return isDir.boolValue ? nil : p
    }
}

/// Whether `needle` occurs in `hay`.
func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, hay.count >= needle.count else { return needle.isEmpty }
    for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
        if Array(hay[i..<(i + needle.count)]) == needle { return true }
    }
    return false
}

/// A broker that issues `vault:` secrets from a dictionary and remembers what it revoked.
final class FakeBroker: SecretBroker, @unchecked Sendable {
    let name: String
    private let lock = NSLock()
    private var _revoked: [String] = []
    private var _issued: [String] = []
    /// Lease ids whose revocation fails.
    var failing: Set<String> = []
    /// Fail issuing the request with this name (after issuing the earlier ones).
    var failIssueAt: String?

    init(name: String = "fake") { self.name = name }

    var revoked: [String] { lock.withLock { _revoked } }
    var issuedIDs: [String] { lock.withLock { _issued } }

    func issue(jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void) throws
        -> [IssuedSecret]
    {
        var out: [IssuedSecret] = []
        do {
            for r in requests {
                if r.name == failIssueAt { throw FakeError(text: "cannot issue \(r.name)") }
                let lease = Self.lease(broker: name, id: "\(name)-\(r.name)", job: jobID, secret: r.name)
                lock.withLock { _issued.append(lease.id) }
                out.append(IssuedSecret(request: r, value: SecretValue("value-of-\(r.name)"), leases: [lease]))
                try record(lease)
            }
        } catch {
            for s in out { for l in s.leases { try? revoke(l) } }
            throw error
        }
        return out
    }

    func revoke(_ lease: Lease) throws {
        if failing.contains(lease.id) { throw FakeError(text: "broker down for \(lease.id)") }
        lock.withLock { _revoked.append(lease.id) }
    }

    static func lease(
        broker: String, id: String, kind: String = "lease", job: String = "job-1", secret: String = "s",
        expires: Date = Date().addingTimeInterval(3600)
    ) -> Lease {
        Lease(
            broker: broker, id: id, kind: kind, jobID: job, secretName: secret, source: "vault:kv/x#\(secret)",
            issuedAt: Date(), expiresAt: expires)
    }
}

struct FakeError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

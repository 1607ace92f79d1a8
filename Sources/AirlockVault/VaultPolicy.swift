import AirlockCore
import AirlockSecrets
import Foundation

/// What the broker will do to fetch one requested secret.
struct VaultReadPlan {
    enum Kind {
        /// KV v2: `data.data[field]`.
        case kv(field: String)
        /// A dynamic secret: `data[field]`, or all of `data` as JSON; has a lease.
        case dynamic(field: String?)
    }

    var request: SecretRequest
    /// The API path read with the job token (without `/v1/`), e.g. `secret/data/ci/deploy`.
    var apiPath: String
    var kind: Kind
    /// The request's source as the job wrote it (never a value), for leases and messages.
    var source: String
}

enum VaultPolicy {
    /// Path characters accepted in `vault:` / `vault-dynamic:` sources. Everything else — in
    /// particular `*`, `+`, quotes and braces — is refused, so a job cannot widen its policy.
    private static let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")

    /// Check `path` and return its segments.
    static func segments(of path: String, secret: String) throws -> [Substring] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, path.allSatisfy({ pathCharacters.contains($0) }),
            parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
        else {
            throw AirlockError(
                .vaultRequest,
                "secret '\(secret)': '\(path)' is not a valid OpenBao path",
                hint: "use segments of letters, digits, '.', '_' and '-' separated by single '/' (no globs)")
        }
        return parts
    }

    /// The plan for one request, with paths checked.
    static func plan(for request: SecretRequest, kvMounts: [String]) throws -> VaultReadPlan {
        switch request.source {
        case .local(let name):
            throw AirlockError(
                .vaultRequest,
                "secret '\(request.name)': local:\(name) is not an OpenBao secret",
                hint: "local secrets are issued by the embedded broker")
        case .vaultKV(let path, let field):
            let parts = try segments(of: path, secret: request.name)
            let mount =
                kvMounts.sorted { $0.count > $1.count }.first { path.hasPrefix($0 + "/") }
                ?? String(parts[0])
            let rest = path.dropFirst(mount.count + 1)
            guard !rest.isEmpty else {
                throw AirlockError(
                    .vaultRequest,
                    "secret '\(request.name)': vault:\(path) names the mount '\(mount)' but no secret in it",
                    hint: "write vault:<mount>/<path>#<field>, e.g. vault:secret/ci/deploy#token")
            }
            guard !field.isEmpty else {
                throw AirlockError(
                    .vaultRequest, "secret '\(request.name)': vault:\(path) needs a field",
                    hint: "write vault:\(path)#<field>")
            }
            return VaultReadPlan(
                request: request, apiPath: "\(mount)/data/\(rest)", kind: .kv(field: field),
                source: "vault:\(path)#\(field)")
        case .vaultDynamic(let path, let field):
            _ = try segments(of: path, secret: request.name)
            return VaultReadPlan(
                request: request, apiPath: path, kind: .dynamic(field: field),
                source: "vault-dynamic:\(path)" + (field.map { "#\($0)" } ?? ""))
        }
    }

    /// The ACL policy of one job: `read` on exactly the API paths it declared, nothing else.
    static func document(jobID: String, apiPaths: [String]) -> String {
        var lines = ["# Airlock job \(sanitizedComment(jobID)): read-only access to its declared secrets."]
        var seen = Set<String>()
        for path in apiPaths where seen.insert(path).inserted {
            lines.append("path \"\(path)\" {\n  capabilities = [\"read\"]\n}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `<prefix><job id>`, lowercased (OpenBao lowercases policy names) with characters outside
    /// `[a-z0-9._-]` replaced; when that changed the id, a hash of the original keeps two jobs
    /// from sharing (and overwriting) one policy.
    static func name(prefix: String, jobID: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        let lowered = jobID.lowercased()
        var cleaned = String(lowered.map { allowed.contains($0) ? $0 : "-" })
        if cleaned != jobID || cleaned.isEmpty {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in jobID.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            cleaned += "-" + String(hash, radix: 16)
        }
        return prefix + cleaned
    }

    private static func sanitizedComment(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}

import AirlockCore
import AirlockSecrets
import Foundation

extension OpenBaoBroker {
    /// Revoke one lease: a dynamic secret's `lease`, a job token (`token-accessor`) or a job's
    /// `policy`. Something already gone (expired, revoked, deleted) counts as revoked.
    public func revoke(_ lease: Lease) throws {
        guard lease.broker == name else {
            throw AirlockError(
                .internalError, "lease \(lease.kind) \(lease.id) belongs to the '\(lease.broker)' broker, not '\(name)'"
            )
        }
        let (method, path, body): (String, String, [String: Any]?)
        switch lease.kind {
        case "lease": (method, path, body) = ("PUT", "sys/leases/revoke", ["lease_id": lease.id])
        case "token-accessor": (method, path, body) = ("POST", "auth/token/revoke-accessor", ["accessor": lease.id])
        case "policy":
            guard lease.id.hasPrefix(config.policyPrefix), !lease.id.contains("/") else {
                throw AirlockError(
                    .internalError, "refusing to delete the policy '\(lease.id)': not an Airlock job policy")
            }
            (method, path, body) = ("DELETE", "sys/policies/acl/\(lease.id)", nil)
        default:
            throw AirlockError(
                .internalError, "the openbao broker has no lease kind '\(lease.kind)' (lease \(lease.id))")
        }
        let what = "revoking \(lease.kind) \(lease.id) of job \(lease.jobID) (secret \(lease.secretName))"
        let result: (status: Int, json: [String: Any])
        do {
            result = try runnerExchange(method, path, body: body)
        } catch var error as AirlockError {
            error.message = "\(what): \(error.message)"
            throw error
        }
        switch result.status {
        case 200, 204: return
        case 404: return
        case 400 where Self.meansGone(result.json): return
        case 403:
            throw AirlockError(
                .vaultDenied,
                "\(what): OpenBao at \(config.address) denied it (HTTP 403\(Self.reason(result.json)))",
                hint: "the runner's policy must allow \(method) on \(path)")
        default:
            throw serverError(what, result)
        }
    }

    /// Whether the token with `accessor` is still valid (`auth/token/lookup-accessor`).
    public func tokenIsValid(accessor: String) throws -> Bool {
        let result = try runnerExchange("POST", "auth/token/lookup-accessor", body: ["accessor": accessor])
        switch result.status {
        case 200: return true
        case 404: return false
        case 400 where Self.meansGone(result.json): return false
        default: throw serverError("looking up a token accessor", result)
        }
    }

    /// Revoke `leases` newest first, ignoring errors; returns the ones that could not be revoked.
    func revokeQuietly(_ leases: [Lease]) -> [String] {
        var left: [String] = []
        for lease in leases.reversed() {
            do { try revoke(lease) } catch { left.append("\(lease.kind) \(lease.id)") }
        }
        return left
    }

    /// 400 answers that mean "no such lease / token": already revoked or expired.
    static func meansGone(_ json: [String: Any]) -> Bool {
        let text = ((json["errors"] as? [Any]) ?? []).map { "\($0)".lowercased() }.joined(separator: " ")
        return text.contains("invalid lease") || text.contains("invalid accessor") || text.contains("not found")
            || text.contains("invalid token") || text.contains("lease not found") || text.contains("no such")
    }
}

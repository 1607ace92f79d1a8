import AirlockCore
import AirlockSecrets
import Foundation

extension OpenBaoBroker {
    /// Issue `requests` for job `jobID`, valid for at most `ttl` seconds (all-or-nothing).
    ///
    /// The job-wide leases (`policy`, `token-accessor`) are attached to the first returned
    /// secret; each dynamic secret carries its own `lease`. Every lease has been passed to
    /// `record` before this returns.
    /// - Throws: `AirlockError` (`vault.*` codes) naming the secret(s) and the reason, after
    ///   revoking whatever had been issued.
    public func issue(jobID: String, requests: [SecretRequest], ttl: Double, record: (Lease) throws -> Void) throws
        -> [IssuedSecret]
    {
        guard !requests.isEmpty else { return [] }
        let names = requests.map { "'\($0.name)'" }.joined(separator: ", ")
        let context = "job \(jobID): cannot issue \(requests.count == 1 ? "secret" : "secrets") \(names)"

        // Refused before anything exists.
        guard ttl > 0, ttl.isFinite else {
            throw AirlockError(
                .vaultRequest, "\(context): the lifetime \(ttl) s is not positive",
                hint: "give the job a positive timeout")
        }
        guard ttl <= config.maxTTL else {
            throw AirlockError(
                .vaultRequest,
                "\(context): the lifetime \(Self.seconds(ttl)) is above the broker's maximum \(Self.seconds(config.maxTTL))",
                hint: "shorten the job's timeout or the secret's ttl, or raise the broker's max TTL")
        }
        for request in requests {
            if let own = request.ttl, own > config.maxTTL {
                throw AirlockError(
                    .vaultRequest,
                    "job \(jobID): secret '\(request.name)' asks for \(Self.seconds(own)), above the broker's maximum \(Self.seconds(config.maxTTL))",
                    hint: "shorten the secret's ttl or raise the broker's max TTL")
            }
        }
        let plans = try requests.map { try VaultPolicy.plan(for: $0, kvMounts: config.kvMounts) }

        let policyName = VaultPolicy.name(prefix: config.policyPrefix, jobID: jobID)
        let issuedAt = now()
        let tokenTTL = (ttl + config.grace).rounded(.up)
        let tokenExpiry = issuedAt.addingTimeInterval(tokenTTL)
        let jobNames = requests.map(\.name).joined(separator: ",")
        var issued: [Lease] = []
        var values: [SecretValue] = []

        /// Wipe and revoke everything, then the error to throw: ours as is (they name the
        /// secrets), a `record` failure unchanged unless something could not be revoked.
        func fail(_ error: Error) -> Error {
            for value in values { value.wipe() }
            let leftovers = revokeQuietly(issued)
            guard !leftovers.isEmpty || error is AirlockError else { return error }
            var wrapped =
                error as? AirlockError
                ?? AirlockError(
                    .vaultServer, "\(context): \(error)", hint: "check OpenBao's log for the request")
            if !leftovers.isEmpty {
                wrapped.message += "; could not revoke \(leftovers.joined(separator: ", ")) (kept in the lease journal)"
            }
            return wrapped
        }

        do {
            // 0. Log in first: bad credentials, a sealed or an unreachable server fail here,
            //    before anything exists.
            _ = try runnerStep(context, "logging in") { try runnerToken() }

            // 1. The job's policy: read on exactly its paths. Journaled before it exists, so a
            //    crash right after creating it still leaves a record to revoke from.
            let policyLease = Lease(
                broker: name, id: policyName, kind: "policy", jobID: jobID, secretName: jobNames,
                source: "sys/policies/acl/\(policyName)", issuedAt: issuedAt, expiresAt: tokenExpiry)
            issued.append(policyLease)
            try record(policyLease)
            let document = VaultPolicy.document(jobID: jobID, apiPaths: plans.map(\.apiPath))
            let put = try runnerStep(context, "writing the policy \(policyName)") {
                try runnerExchange("PUT", "sys/policies/acl/\(policyName)", body: ["policy": document])
            }
            guard put.status == 200 || put.status == 204 else {
                throw setupError(context, "writing the policy \(policyName)", put)
            }

            // 2. The job's token: only that policy, bounded in time and uses, not renewable.
            let tokenPath = config.tokenRole.map { "auth/token/create/\($0)" } ?? "auth/token/create"
            let created = try runnerStep(context, "creating the job token") {
                try runnerExchange(
                    "POST", tokenPath,
                    body: [
                        "policies": [policyName],
                        "no_default_policy": true,
                        "ttl": "\(Int(tokenTTL))s",
                        "explicit_max_ttl": "\(Int(tokenTTL))s",
                        "num_uses": plans.count + config.useMargin,
                        "renewable": false,
                        "display_name": policyName,
                        "meta": ["airlock_job": jobID],
                    ])
            }
            guard created.status == 200, let auth = created.json["auth"] as? [String: Any],
                let jobToken = auth["client_token"] as? String, let accessor = auth["accessor"] as? String,
                !jobToken.isEmpty, !accessor.isEmpty
            else { throw setupError(context, "creating the job token at \(tokenPath)", created) }
            let tokenLease = Lease(
                broker: name, id: accessor, kind: "token-accessor", jobID: jobID, secretName: jobNames,
                source: tokenPath, issuedAt: issuedAt, expiresAt: tokenExpiry)
            issued.append(tokenLease)
            try record(tokenLease)

            // 3. Each secret, read with the job token.
            var results: [IssuedSecret] = []
            for plan in plans {
                let (value, lease) = try read(
                    plan, jobID: jobID, token: jobToken, issuedAt: issuedAt, tokenExpiry: tokenExpiry
                ) { lease in
                    issued.append(lease)
                    try record(lease)
                }
                values.append(value)
                results.append(IssuedSecret(request: plan.request, value: value, leases: lease.map { [$0] } ?? []))
            }
            results[0].leases.insert(contentsOf: [policyLease, tokenLease], at: 0)
            return results
        } catch {
            throw fail(error)
        }
    }

    /// Read one secret with the job token; `onLease` journals a dynamic secret's lease as soon
    /// as it exists (before its value is even looked at).
    private func read(
        _ plan: VaultReadPlan, jobID: String, token: String, issuedAt: Date, tokenExpiry: Date,
        onLease: (Lease) throws -> Void
    ) throws -> (SecretValue, Lease?) {
        let what = "job \(jobID): secret '\(plan.request.name)' (\(plan.source))"
        let result = try runnerStep(what, "reading") { try exchange("GET", plan.apiPath, token: token) }
        var lease: Lease?
        // A dynamic secret's lease hangs off the job token: it ends with the token at the latest.
        if let leaseID = result.json["lease_id"] as? String, !leaseID.isEmpty {
            let duration = (result.json["lease_duration"] as? NSNumber)?.doubleValue ?? 0
            let new = Lease(
                broker: name, id: leaseID, kind: "lease", jobID: jobID, secretName: plan.request.name,
                source: plan.source, issuedAt: issuedAt, expiresAt: min(now().addingTimeInterval(duration), tokenExpiry)
            )
            try onLease(new)
            lease = new
        }
        switch result.status {
        case 200: break
        case 403:
            throw AirlockError(
                .vaultDenied,
                "\(what): OpenBao at \(config.address) denied reading '\(plan.apiPath)' (HTTP 403\(Self.reason(result.json)))",
                hint: "the path may not exist, or the job token is not allowed to read it")
        case 404:
            throw AirlockError(
                .vaultNotFound, "\(what): '\(plan.apiPath)' does not exist in OpenBao at \(config.address)",
                hint: "check the path and the mount (KV v2 paths are vault:<mount>/<path>#<field>)")
        case 503:
            try throwIfSealed()
            throw serverError("reading '\(plan.apiPath)' for \(what)", result)
        default:
            throw AirlockError(
                .vaultServer,
                "\(what): OpenBao at \(config.address) refused reading '\(plan.apiPath)' (HTTP \(result.status)\(Self.reason(result.json)))",
                hint: "check OpenBao's log and the runner's policy for that path")
        }
        let data = result.json["data"] as? [String: Any]
        switch plan.kind {
        case .kv(let field):
            guard let kvData = data?["data"] as? [String: Any] else {
                throw AirlockError(
                    .vaultNotFound,
                    "\(what): '\(plan.apiPath)' has no current version (deleted or destroyed)",
                    hint: "write the secret again (`bao kv put`) or point the job at a live path")
            }
            guard let raw = kvData[field] else {
                let fields = kvData.keys.sorted().joined(separator: ", ")
                throw AirlockError(
                    .vaultNotFound, "\(what): the secret has no field '\(field)'",
                    hint: fields.isEmpty ? nil : "its fields are: \(fields)")
            }
            return (SecretValue(Self.bytes(of: raw)), lease)
        case .dynamic(let field):
            guard let data else {
                throw AirlockError(
                    .vaultServer, "\(what): '\(plan.apiPath)' answered without data",
                    hint: "check that the path is a KV secret (or a database role) the runner may read")
            }
            if let field {
                guard let raw = data[field] else {
                    throw AirlockError(
                        .vaultNotFound, "\(what): the response has no field '\(field)'",
                        hint: "its fields are: \(data.keys.sorted().joined(separator: ", "))")
                }
                return (SecretValue(Self.bytes(of: raw)), lease)
            }
            return (SecretValue(Self.bytes(of: data)), lease)
        }
    }

    /// A string as its UTF-8 bytes; anything else as compact JSON with sorted keys.
    static func bytes(of raw: Any) -> [UInt8] {
        if let text = raw as? String { return Array(text.utf8) }
        if let data = try? JSONSerialization.data(
            withJSONObject: raw, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        {
            return Array(data)
        }
        return Array("\(raw)".utf8)
    }

    /// Run a runner-token step; errors that are already ours get the secrets' names in front.
    private func runnerStep<T>(_ context: String, _ doing: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch var error as AirlockError {
            error.message = "\(context): \(error.message)"
            throw error
        }
    }

    private func setupError(_ context: String, _ doing: String, _ result: (status: Int, json: [String: Any]))
        -> AirlockError
    {
        if result.status == 403 {
            return AirlockError(
                .vaultDenied,
                "\(context): OpenBao at \(config.address) denied \(doing) (HTTP 403\(Self.reason(result.json)))",
                hint: "the runner's policy must allow it (see scripts/start-services.sh for a working one)")
        }
        var error = serverError(doing, result)
        error.message = "\(context): \(error.message)"
        return error
    }

    static func seconds(_ value: Double) -> String {
        value >= 3600 && value.truncatingRemainder(dividingBy: 3600) == 0
            ? "\(Int(value / 3600)) h (\(Int(value)) s)" : "\(Int(value)) s"
    }
}

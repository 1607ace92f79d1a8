import AirlockCore
import AirlockJob
import AirlockSandbox
import AirlockSecrets
import AirlockVault
import Foundation

/// The secret brokers a runner uses, from its environment:
/// - always the embedded store in the state directory (`local:` sources);
/// - OpenBao/Vault when `AIRLOCK_VAULT_ADDR` is set, authenticating with AppRole
///   (`AIRLOCK_VAULT_ROLE_ID` + `AIRLOCK_VAULT_SECRET_ID_FILE`) or a token
///   (`AIRLOCK_VAULT_TOKEN_FILE`). Credentials are read from files, never from the environment.
enum SecretsSetup {
    static func context(state: StateDirectory, env: [String: String] = ProcessInfo.processInfo.environment) throws -> (
        context: SecretsContext, brokers: [String: any SecretBroker], transport: HTTPVaultTransport?
    ) {
        let embedded = EmbeddedBroker(store: EmbeddedSecretStore(stateDir: state.path))
        var vault: OpenBaoBroker?
        var transport: HTTPVaultTransport?
        if let addr = env["AIRLOCK_VAULT_ADDR"], !addr.isEmpty {
            let auth: OpenBaoConfig.Auth
            if let roleID = env["AIRLOCK_VAULT_ROLE_ID"], let file = env["AIRLOCK_VAULT_SECRET_ID_FILE"] {
                auth = .appRole(roleID: roleID, secretID: try readCredential(file, what: "AppRole secret id"))
            } else if let file = env["AIRLOCK_VAULT_TOKEN_FILE"] {
                auth = .token(try readCredential(file, what: "vault token"))
            } else {
                throw AirlockError(
                    .usage, "AIRLOCK_VAULT_ADDR is set (\(addr)) but no credentials are configured",
                    hint:
                        "set AIRLOCK_VAULT_ROLE_ID and AIRLOCK_VAULT_SECRET_ID_FILE (AppRole), or AIRLOCK_VAULT_TOKEN_FILE"
                )
            }
            let t = HTTPVaultTransport(address: addr)
            transport = t
            vault = OpenBaoBroker(config: OpenBaoConfig(address: addr, auth: auth), transport: t)
        }
        let router = SecretBrokerRouter(local: embedded, vault: vault)
        var brokers: [String: any SecretBroker] = [embedded.name: embedded]
        if let vault { brokers[vault.name] = vault }
        let ctx = SecretsContext(
            broker: router, journal: LeaseJournal(stateDir: state.path), access: SecretAccessLog(stateDir: state.path))
        return (ctx, brokers, transport)
    }

    /// Revoke what a crashed runner left issued (the lease journal), before anything else runs.
    static func replay(_ ctx: SecretsContext, brokers: [String: any SecretBroker]) {
        do {
            let result = try ctx.journal.replay(brokers: brokers) { info($0) }
            if result.revoked > 0 { info("revoked \(result.revoked) lease(s) left by an earlier run") }
            for l in result.failed {
                warn(
                    "could not revoke \(l.broker) \(l.kind) \(l.id) (secret '\(l.secretName)' of job \(l.jobID)); it stays in the journal"
                )
            }
        } catch {
            warn("lease journal replay failed: \(error)")
        }
    }

    static func readCredential(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AirlockError(
                .missingFile, "cannot read the \(what) file '\(path)'",
                hint: "check the path and that it is readable by this user only")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

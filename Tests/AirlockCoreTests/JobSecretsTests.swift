import Testing

@testable import AirlockCore

@Suite struct JobSecretsTests {
    static let head = "name: a\nsteps: [{name: s, run: x}]\n"

    @Test func parsesSecrets() throws {
        let job = try JobLoader.parse(
            yaml: Self.head + """
                secrets:
                  - name: deploy_token
                    source: vault:secret/ci/deploy#token
                    ttl: 15m
                  - name: NPM_TOKEN
                    source: local:npm-token
                    delivery: env
                  - name: db.creds
                    source: vault-dynamic:database/creds/ci
                  - {name: db-user, source: "vault-dynamic:database/creds/ci#username", delivery: file}

                """, file: "job.yaml")
        #expect(
            job.secrets == [
                .init(name: "deploy_token", source: "vault:secret/ci/deploy#token", ttl: 900, delivery: .file),
                .init(name: "NPM_TOKEN", source: "local:npm-token", delivery: .env),
                .init(name: "db.creds", source: "vault-dynamic:database/creds/ci"),
                .init(name: "db-user", source: "vault-dynamic:database/creds/ci#username"),
            ])
        #expect(try JobLoader.parse(yaml: Self.head, file: "job.yaml").secrets.isEmpty)
    }

    @Test func splitsSources() throws {
        typealias P = Job.SecretEntry.SourceParts
        #expect(try Job.SecretEntry.parseSource("local:x") == P(kind: .local, path: "x"))
        #expect(
            try Job.SecretEntry.parseSource("vault:secret/a/b#f") == P(kind: .vault, path: "secret/a/b", field: "f"))
        #expect(
            try Job.SecretEntry.parseSource("vault-dynamic:database/creds/ci")
                == P(kind: .vaultDynamic, path: "database/creds/ci"))
        #expect(
            try Job.SecretEntry.parseSource("vault-dynamic:aws/creds/r#access_key")
                == P(kind: .vaultDynamic, path: "aws/creds/r", field: "access_key"))
    }

    @Test(arguments: ["a", "_a", "A.b-c_9", "_"])
    func validNames(_ n: String) { #expect(Job.SecretEntry.isValidName(n)) }

    @Test(arguments: ["", "9a", ".a", "-a", "a b", "a/b", "é", "..", "a:b"])
    func invalidNames(_ n: String) { #expect(!Job.SecretEntry.isValidName(n)) }

    static let secret = Self.head + "secrets:\n"

    /// (yaml, expected message, expected hint fragment)
    static let invalid: [(String, String, String)] = [
        (
            secret + "  - name: 9lives\n    source: local:x\n",
            "job.yaml:4:11: secret name '9lives' must start with a letter or '_' and contain only letters, digits, '_', '.' and '-'",
            "_9lives"
        ),
        (
            secret + "  - {name: a, source: local:x}\n  - {name: a, source: local:y}\n",
            "job.yaml:5:12: secret name 'a' is used twice (first on line 4)", "its own name"
        ),
        (
            secret + "  - {name: a}\n", "job.yaml:4:5: missing required field 'secrets[0].source'",
            "local:NAME"
        ),
        (
            secret + "  - {name: a, sorce: local:x}\n",
            "job.yaml:4:15: unknown field 'secrets[0].sorce' (did you mean 'source'?)", "source"
        ),
        (
            secret + "  - {name: a, source: x}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'x' has no scheme", "local:x"
        ),
        (
            secret + "  - {name: a, source: 'valt:secret/x#y'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'valt:secret/x#y' has an unknown scheme 'valt' (did you mean 'vault'?)",
            "vault:secret/x#y"
        ),
        (
            secret + "  - {name: a, source: 'vault:secret/x'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'vault:secret/x' names no field",
            "vault:secret/x#password"
        ),
        (
            secret + "  - {name: a, source: 'vault:secret/x#'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'vault:secret/x#' has an empty field after '#'",
            "name the field"
        ),
        (
            secret + "  - {name: a, source: 'vault:secret#f'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'vault:secret#f': the path 'secret' must be '<mount>/<path>' with no empty parts",
            "vault:secret/ci/deploy#token"
        ),
        (
            secret + "  - {name: a, source: 'vault-dynamic:/database/creds'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'vault-dynamic:/database/creds': the path '/database/creds' must be '<mount>/<path>' with no empty parts",
            "vault-dynamic:database/creds/ci"
        ),
        (
            secret + "  - {name: a, source: 'vault:secret/../x#f'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'vault:secret/../x#f': the path 'secret/../x' may not contain '.' or '..'",
            "full path"
        ),
        (
            secret + "  - {name: a, source: 'local:../key'}\n",
            "job.yaml:4:23: field 'secrets[0].source': secret source 'local:../key': '../key' is not a valid store name",
            "store names"
        ),
        (
            secret + "  - {name: a, source: local:x, ttl: forever}\n",
            "job.yaml:4:37: field 'secrets[0].ttl' is not a valid duration: 'forever' is not a duration", "1h30m"
        ),
        (
            secret + "  - {name: a, source: local:x, ttl: 0}\n",
            "job.yaml:4:37: field 'secrets[0].ttl' must be positive", ""
        ),
        (
            secret + "  - {name: a, source: local:x, delivery: stdin}\n",
            "job.yaml:4:42: field 'secrets[0].delivery' must be one of file, env, not 'stdin'", ""
        ),
        (
            secret + "  - {name: a.b, source: local:x, delivery: env}\n",
            "job.yaml:4:12: secret 'a.b' is delivered as an environment variable but is not a valid variable name",
            "a_b"
        ),
        (
            Self.head + "env: {TOKEN: x}\nsecrets:\n  - {name: TOKEN, source: local:x, delivery: env}\n",
            "job.yaml:5:12: secret 'TOKEN' is delivered as an environment variable that 'env' also sets",
            "remove 'TOKEN' from 'env'"
        ),
        (secret + "  - local:x\n", "job.yaml:4:5: field 'secrets[0]' must be a mapping, not 'local:x'", ""),
        (Self.head + "secrets: {a: local:x}\n", "job.yaml:3:10: field 'secrets' must be a list, not a mapping", ""),
    ]

    @Test(arguments: invalid)
    func invalidSecretsNameFileLineAndField(_ yaml: String, _ expected: String, _ hint: String) throws {
        let e = try #require(throws: AirlockError.self) { try JobLoader.parse(yaml: yaml, file: "job.yaml") }
        #expect(e.message == expected)
        #expect(e.code == .invalidFile)
        if !hint.isEmpty { #expect(e.hint?.contains(hint) == true, "hint: \(e.hint ?? "nil")") }
    }
}

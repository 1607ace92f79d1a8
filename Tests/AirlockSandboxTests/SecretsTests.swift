import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// `.build/services/env` written by scripts/start-services.sh (OpenBao + PostgreSQL on loopback).
    static let services: [String: String] = {
        guard let text = try? String(contentsOfFile: Host.repoRoot + "/.build/services/env", encoding: .utf8) else {
            return [:]
        }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(
                in: CharacterSet(charactersIn: "'\""))
        }
        return out
    }()

    /// Every file under `dir` whose bytes contain `needle`.
    func filesContaining(_ needle: String, under dir: String) -> [String] {
        var hits: [String] = []
        let n = Data(needle.utf8)
        guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
        for case let rel as String in e {
            let p = dir + "/" + rel
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue,
                let d = FileManager.default.contents(atPath: p)
            else { continue }
            if d.range(of: n) != nil { hits.append(rel) }
        }
        return hits
    }

    @Test("embedded store: a job reads its secret from /run/secrets; printing it shows only [MASKED]")
    func embeddedSecretMasked() throws {
        let s = TestState()
        let secret = "s3cr3t-Value-7f9a"
        let put = Process()
        put.executableURL = URL(fileURLWithPath: Host.airlock)
        put.arguments = ["secrets", "put", "deploy_token"]
        put.environment = s.env
        let stdin = Pipe()
        put.standardInput = stdin
        try put.run()
        stdin.fileHandleForWriting.write(Data((secret + "\n").utf8))
        try stdin.fileHandleForWriting.close()
        put.waitUntilExit()
        #expect(put.terminationStatus == 0)
        let job = try tempJob(
            """
            name: uses-secret
            secrets:
              - {name: deploy_token, source: "local:deploy_token"}
            steps:
              - name: read
                run: |
                  ls -l /run/secrets/deploy_token | cut -c1-10
                  test "$(stat -c %u /run/secrets/deploy_token)" = 1000
                  echo "plain: $(cat /run/secrets/deploy_token)"
                  echo "b64: $(base64 -w0 /run/secrets/deploy_token)"
                  printf 'split: %s' "$(head -c 6 /run/secrets/deploy_token)"; sleep 0.2; printf '%s\\n' "$(tail -c +7 /run/secrets/deploy_token)"
                  echo ok > result.txt
            outputs: [result.txt]
            """, in: s)
        let (r, out) = try run(job, state: s)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("-r--------"), "\(r.stdout)")
        #expect(
            r.stdout.contains("plain: [MASKED]") && r.stdout.contains("b64: [MASKED]")
                && r.stdout.contains("split: [MASKED]"), "\(r.stdout)")
        #expect(!r.stdout.contains(secret) && !r.stderr.contains(secret))
        // Nowhere on disk but the encrypted store: not the out dir, not the state dir.
        #expect(filesContaining(secret, under: out).isEmpty)
        #expect(filesContaining(secret, under: s.dir).isEmpty, "\(filesContaining(secret, under: s.dir))")
        let b64 = Data(secret.utf8).base64EncodedString()
        #expect(filesContaining(b64, under: out).isEmpty)
        // Not in the provenance either (names only), and the access record names the lease.
        let prov = try String(contentsOfFile: out + "/uses-secret.intoto.jsonl", encoding: .utf8)
        #expect(!prov.contains(b64))
        let access = try String(contentsOfFile: s.dir + "/leases/access.jsonl", encoding: .utf8)
        #expect(access.contains("deploy_token") && access.contains("revoked"), "\(access)")
        Leftovers.expectNone(s)
    }

    @Test("a secret the store does not have: refused before any sandbox starts, exit 2")
    func unknownSecret() throws {
        let s = TestState()
        let job = try tempJob(
            """
            name: x
            secrets: [{name: nope, source: "local:nope"}]
            steps: [{name: a, run: 'touch ran'}]
            """, in: s)
        let (r, _) = try run(job, state: s)
        #expect(r.status == 2 && r.stderr.contains("nope"), "\(r.stderr)")
        Leftovers.expectNone(s)
    }

    /// Runs `job` with the OpenBao broker configured through the environment.
    func runWithVault(_ job: String, _ s: TestState, signal: Int32? = nil) throws -> (RunResult, String) {
        let secretIDFile = s.dir + "/secret-id"
        try Self.services["AIRLOCK_TEST_APPROLE_SECRET_ID"]!.write(
            toFile: secretIDFile, atomically: true, encoding: .utf8)
        var env = s.env
        env["AIRLOCK_VAULT_ADDR"] = Self.services["AIRLOCK_TEST_BAO_ADDR"]
        env["AIRLOCK_VAULT_ROLE_ID"] = Self.services["AIRLOCK_TEST_APPROLE_ROLE_ID"]
        env["AIRLOCK_VAULT_SECRET_ID_FILE"] = secretIDFile
        let out = s.dir + "/out"
        if let signal {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Host.airlock)
            p.arguments = ["run", job, "--out", out]
            p.environment = env
            let o = Pipe()
            p.standardOutput = o
            p.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try p.run()
            // Readiness: the job printed its credentials and is in its last command.
            var text = readUntil(o.fileHandleForReading, line: "dbcreds ")
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            text += String(decoding: o.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (RunResult(status: p.terminationStatus, stdout: text, stderr: ""), out)
        }
        return (try Run.capture([Host.airlock, "run", job, "--out", out], env: env, cwd: Host.repoRoot), out)
    }

    /// The credentials the job printed (`user=… pass=…`), then whether they still log in.
    func databaseLoginWorks(_ stdout: String) -> Bool? {
        guard let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("dbcreds ") }) else { return nil }
        let f = line.split(separator: " ")
        guard f.count == 3 else { return nil }
        let r = try? Run.capture(
            [
                Self.services["AIRLOCK_TEST_PSQL_BIN"] ?? "/usr/bin/psql", "-h", "127.0.0.1", "-p",
                Self.services["AIRLOCK_TEST_PG_PORT"] ?? "",
                "-U", String(f[1]), "-d", Self.services["AIRLOCK_TEST_PG_DB"] ?? "", "-c", "select 1",
            ],
            env: ["PGPASSWORD": String(f[2]), "PATH": "/usr/bin:/bin"])
        return r?.status == 0
    }

    static let vaultJob = """
        name: vault-job
        secrets:
          - {name: token, source: "vault:secret/ci/deploy#token"}
          - {name: db, source: "vault-dynamic:database/creds/ci"}
        steps:
          - name: use
            run: |
              test -s /run/secrets/token && echo "kv ok"
              # Printed unmasked on purpose (the JSON, not the values), so the test can try the login.
              sed -n 's/.*"username":"\\([^"]*\\)".*"password":"\\([^"]*\\)".*/\\1 \\2/p;s/.*"password":"\\([^"]*\\)".*"username":"\\([^"]*\\)".*/\\2 \\1/p' /run/secrets/db | tr -d '\\n' > /tmp/c
              echo "dbcreds $(cat /tmp/c)"
              STEP_EXIT
        """

    @Test(
        "OpenBao: KV and a dynamic PostgreSQL credential reach the job; after the job the database login fails",
        .enabled(if: !services.isEmpty, "needs scripts/start-services.sh (make test runs it)"),
        arguments: ["success", "failure", "timeout", "cancel"])
    func vaultSecretsRevoked(_ ending: String) throws {
        let s = TestState()
        var yaml = Self.vaultJob
        switch ending {
        case "success": yaml = yaml.replacingOccurrences(of: "STEP_EXIT", with: "true")
        case "failure": yaml = yaml.replacingOccurrences(of: "STEP_EXIT", with: "exit 9")
        case "timeout": yaml = yaml.replacingOccurrences(of: "STEP_EXIT", with: "sleep 60") + "\ntimeout: 3s\n"
        default: yaml = yaml.replacingOccurrences(of: "STEP_EXIT", with: "sleep 60")
        }
        let job = try tempJob(yaml, in: s)
        let (r, _) = try runWithVault(job, s, signal: ending == "cancel" ? SIGINT : nil)
        switch ending {
        case "success": #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        case "failure": #expect(r.status == 9)
        case "timeout": #expect(r.status == 124)
        default: #expect(r.status != 0)
        }
        #expect(r.stdout.contains("kv ok"), "\(r.stdout) \(r.stderr)")
        let login = databaseLoginWorks(r.stdout)
        #expect(login == false, "the dynamic credential must be revoked after a \(ending): \(r.stdout)")
        // The journal holds nothing outstanding, and the access record shows the revocations.
        let access = (try? String(contentsOfFile: s.dir + "/leases/access.jsonl", encoding: .utf8)) ?? ""
        #expect(access.contains("\"token-accessor\"") && access.contains("revoked"), "\(access)")
        Leftovers.expectNone(s)
    }

    @Test(
        "a runner SIGKILLed mid-job has its leases revoked at the next start",
        .enabled(if: !services.isEmpty, "needs scripts/start-services.sh (make test runs it)"))
    func vaultCrashReplay() throws {
        let s = TestState()
        let job = try tempJob(Self.vaultJob.replacingOccurrences(of: "STEP_EXIT", with: "sleep 60"), in: s)
        let (r, _) = try runWithVault(job, s, signal: SIGKILL)
        #expect(r.status != 0)
        // The sandbox died with its agent; the credential is still valid until the next start.
        #expect(databaseLoginWorks(r.stdout) == true, "\(r.stdout)")
        let journal = try String(contentsOfFile: s.dir + "/leases/journal.jsonl", encoding: .utf8)
        #expect(journal.contains("\"lease\""))
        // Next start: any airlock run replays the journal first.
        let next = try tempJob("name: next\nsteps: [{name: a, run: 'true'}]\n", in: s)
        let (r2, _) = try runWithVault(next, s)
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(r2.stderr.contains("revoked") && r2.stderr.contains("earlier run"), "\(r2.stderr)")
        #expect(databaseLoginWorks(r.stdout) == false, "the crashed job's credential must be revoked by the replay")
        Leftovers.expectNone(s)
    }
}

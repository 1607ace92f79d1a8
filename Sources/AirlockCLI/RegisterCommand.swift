import AirlockAgent
import AirlockCore
import AirlockGitLab
import ArgumentParser
import Foundation
import Logging

/// `airlock register`: check a runner token with the coordinator and write the agent config.
struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register this host as a GitLab runner and write the agent config.",
        discussion: """
            With --token glrt-… (a runner created in GitLab's UI or API), the token is verified \
            (POST /api/v4/runners/verify). With --registration-token (GitLab's deprecated flow), \
            a runner is created (POST /api/v4/runners) and its token stored. The config file is \
            written with mode 0600; start the agent with `airlock agent --config FILE`.
            """)

    @Option(help: "The GitLab instance, e.g. https://gitlab.example.com.")
    var url: String

    @Option(help: "The runner authentication token (glrt-…).")
    var token: String?

    @Option(name: .customLong("registration-token"), help: "A (deprecated) registration token instead of --token.")
    var registrationToken: String?

    @Option(help: "Where to write the agent config.")
    var config: String = RegisterCommand.defaultConfigPath

    @Option(help: "The agent's name (default: the host name).")
    var name: String?

    @Option(help: "Jobs run at once.")
    var concurrency: Int = 1

    @Option(help: "Runner description (registration-token flow).")
    var description: String?

    @Option(name: .customLong("tag"), help: "Runner tag (registration-token flow); repeatable.")
    var tags: [String] = []

    @Flag(help: "Overwrite an existing config file.")
    var force = false

    static var defaultConfigPath: String {
        geteuid() == 0
            ? "/etc/airlock/agent.yaml"
            : (ProcessInfo.processInfo.environment["HOME"] ?? "/tmp") + "/.config/airlock/agent.yaml"
    }

    func run() throws {
        throw ExitCode(execute())
    }

    func execute() -> Int32 {
        do {
            guard (token == nil) != (registrationToken == nil) else {
                throw AirlockError(
                    .usage, "pass exactly one of --token (glrt-…) and --registration-token",
                    hint: "create the runner in GitLab (Settings › CI/CD › Runners) and pass its glrt- token")
            }
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw AirlockError(.usage, "--url must start with https:// (http:// for tests), not '\(url)'")
            }
            guard (1...256).contains(concurrency) else {
                throw AirlockError(.usage, "--concurrency must be between 1 and 256, not \(concurrency)")
            }
            if !force && FileManager.default.fileExists(atPath: config) {
                throw AirlockError(
                    .usage, "the config file \(config) already exists",
                    hint: "pass --force to replace it, or --config to write another file")
            }
            var cfg = AgentConfig(concurrency: concurrency)
            if let name { cfg.name = name }
            let systemID = AgentConfig.makeSystemID()
            let runnerToken = try blocking { [url, token, registrationToken, description, tags, cfg] in
                let http = GitLabHTTP()
                let client = GitLabClient(
                    baseURL: url, http: http, retry: RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 5),
                    logger: Logger(label: "airlock.register"), requestTimeout: .seconds(30))
                do {
                    defer { Task { try? await http.shutdown() } }
                    if let token {
                        _ = try await client.verifyRunner(token: token, systemID: systemID)
                        return token
                    }
                    let made = try await client.registerRunner(
                        registrationToken: registrationToken ?? "", description: description ?? cfg.name,
                        tags: tags, runUntagged: tags.isEmpty,
                        info: GitLabRunnerInfo.airlockDefault(version: AirlockVersion.current))
                    info("registered runner #\(made.id)")
                    return made.token
                } catch let e as GitLabError {
                    throw e.airlockError
                }
            }
            cfg.gitlab = .init(url: url, token: runnerToken, systemID: systemID)
            try FileManager.default.createDirectory(
                atPath: (config as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try cfg.write(to: config)
            info(
                "runner verified; config written to \(config) (mode 0600). Start it with: airlock agent --config \(config)"
            )
            return 0
        } catch {
            return report(error)
        }
    }
}

/// Run async work from a synchronous command.
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

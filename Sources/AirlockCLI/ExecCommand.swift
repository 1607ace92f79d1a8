import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock exec`: run one command in a sandbox, stdio passed through.
struct ExecCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one command in a sandbox.",
        discussion: """
            The command runs with the profile's isolation: new user, mount, pid, net, ipc, uts and \
            cgroup namespaces, no capabilities, the profile's seccomp filter, only the profile's \
            read-only binds plus /workspace, /tmp, /proc and a minimal /dev. The exit status is the \
            command's (128+N when killed by signal N, 124 after --timeout, 127 when it cannot be \
            executed, 2 when the sandbox cannot be set up).

            Without --workspace a fresh, empty /workspace is made and removed afterwards. As root, \
            a --workspace directory is handed to the sandbox's unprivileged uid for the run and \
            back to its owner afterwards.

            As an ordinary user (rootless), memory/pids/cpu limits need a delegated cgroup: \
            as root, `mkdir -p /sys/fs/cgroup/{memory,pids,cpu}/airlock-$UID` and chown \
            them to the user (cgroup v1), or use a delegated cgroup v2 subtree.
            """)

    @Option(name: .long, help: "Profile name or file (default: default).")
    var profile = "default"

    @Option(
        name: .customLong("bind"),
        help: ArgumentHelp("Extra bind SRC:DST[:ro|rw] (read-only by default).", valueName: "SRC:DST[:MODE]"))
    var binds: [String] = []

    @Option(help: "Host directory bound read-write at /workspace.")
    var workspace: String?

    @Option(help: "Wall-clock limit (e.g. 30s, 5m); the whole process tree is killed.")
    var timeout: String?

    @Option(help: "Memory limit (e.g. 512M, 2G).")
    var memory: String?

    @Option(help: "Maximum number of processes.")
    var pids: Int?

    @Option(help: "CPU limit in cores (e.g. 1.5).")
    var cpus: Double?

    @Option(name: .customLong("env"), help: ArgumentHelp("Set KEY=VALUE in the sandbox.", valueName: "KEY=VALUE"))
    var env: [String] = []

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() throws {
        let code = execute()
        throw ExitCode(code)
    }

    func execute() -> Int32 {
        do {
            var cmd = command
            if cmd.first == "--" { cmd.removeFirst() }
            guard !cmd.isEmpty else {
                throw AirlockError(.usage, "no command given", hint: "airlock exec [options] -- CMD ARGS…")
            }
            let profile = try ProfileSearch.load(self.profile)
            let timeoutFlag = try timeout.map { t in try parseFlag(t, "--timeout") { try DurationParse.seconds($0) } }
            let memoryFlag = try memory.map { m in try parseFlag(m, "--memory") { try ByteSize.parse($0) } }
            let limits = ResourceLimits.resolve(
                profile: profile.limits,
                flags: .init(memory: memoryFlag, pids: pids, cpus: cpus, timeout: timeoutFlag))
            let extra = try binds.map(Self.parseBind)
            let envPairs = try env.map { e -> (key: String, value: String) in
                guard let eq = e.firstIndex(of: "="), eq != e.startIndex else {
                    throw AirlockError(.usage, "--env '\(e)' is not KEY=VALUE")
                }
                return (String(e[..<eq]), String(e[e.index(after: eq)...]))
            }

            let sandbox = try Sandbox.makeDefault()
            defer { sandbox.close() }
            let forwarder = SignalForwarder(sandbox: sandbox)
            defer { withExtendedLifetime(forwarder) {} }
            let identity = try SandboxIdentity.acquire(state: sandbox.state)
            defer { identity.release() }

            var restore: () -> Void = {}
            var scratch: Workspace?
            let wsPath: String
            if let ws = workspace {
                wsPath =
                    (ws as NSString).standardizingPath.hasPrefix("/")
                    ? ws : FileManager.default.currentDirectoryPath + "/" + ws
                restore = try Workspace.lend(wsPath, to: identity)
            } else {
                scratch = try Workspace.create(
                    state: sandbox.state, name: "exec", identity: identity, sizeLimit: profile.limits.workspace)
                wsPath = scratch!.path
            }
            defer {
                restore()
                scratch?.remove()
            }
            let spec = SandboxSpec(
                profile: profile, command: cmd, environment: envPairs, workspace: wsPath,
                extraBinds: extra, limits: limits, workingDirectory: "/workspace")
            let result = try sandbox.runBlocking(spec, identity: identity)
            if result.timedOut { info("timed out after \(limits.timeout ?? 0)s; the sandbox's processes were killed") }
            if result.oomKilled {
                info("out of memory: the kernel killed a process at the \(limits.memory ?? 0)-byte limit")
            }
            if result.pidsLimitHit { info("the pids limit (\(limits.pids ?? 0)) was reached") }
            if result.rlimitsOnly { warn("limits were enforced with rlimits only (no cgroup)") }
            return result.exitCode
        } catch {
            return report(error)
        }
    }

    static func parseBind(_ s: String) throws -> BindMount {
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count), parts[0].hasPrefix("/"), parts[1].hasPrefix("/") else {
            throw AirlockError(
                .usage, "--bind '\(s)' is not SRC:DST[:ro|rw] with absolute paths",
                hint: "for example --bind /opt/tools:/opt/tools:ro")
        }
        let mode = parts.count == 3 ? parts[2] : "ro"
        guard mode == "ro" || mode == "rw" else {
            throw AirlockError(.usage, "--bind '\(s)': mode must be ro or rw, not '\(mode)'")
        }
        let reserved = ["/", "/proc", "/dev", "/tmp", "/workspace"]
        let dst = (parts[1] as NSString).standardizingPath
        if reserved.contains(dst) || dst.hasPrefix("/proc/") || dst.hasPrefix("/dev/") {
            throw AirlockError(.usage, "--bind '\(s)': \(dst) is managed by Airlock and cannot be a bind target")
        }
        guard FileManager.default.fileExists(atPath: parts[0]) else {
            throw AirlockError(.missingFile, "--bind '\(s)': \(parts[0]) does not exist")
        }
        return BindMount(source: parts[0], destination: dst, readOnly: mode == "ro")
    }
}

func parseFlag<T>(_ value: String, _ flag: String, _ body: (String) throws -> T) throws -> T {
    do { return try body(value) } catch let e as AirlockError {
        throw AirlockError(.usage, "\(flag) '\(value)': \(e.message)", hint: e.hint)
    }
}

import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock profile record`: run a command while recording its calls; write an allow-list.
struct ProfileRecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run a command sandboxed, record every syscall it makes, write a minimal profile.",
        discussion: """
            The command runs under --base (default: default) with a second seccomp filter whose \
            action is a user notification: the helper, outside the sandbox, counts each call and \
            lets it continue. Calls the base profile denies are not recorded (they never reach \
            the listener). The written profile extends the base, allows exactly the observed \
            calls (calls the base restricts by argument only with the observed argument values) \
            and fails everything else with EPERM. Without --out the profile is written to \
            standard output and the command's output goes to standard error.

            When the command fails, the failure is reported, what was observed is still written, \
            and the profile is marked PARTIAL; the exit status is then the command's. \
            --merge adds the calls of earlier recordings (of the same base); with --merge and no \
            command, the recordings are only merged.
            """)

    @Option(help: "The profile to record under and to extend.")
    var base = "default"

    @Option(help: "Write the profile here (default: standard output).")
    var out: String?

    @Option(help: "The recorded profile's name (default: the --out file name, or 'recorded').")
    var name: String?

    @Option(help: ArgumentHelp("A recorded profile to merge into the result (repeatable).", valueName: "FILE"))
    var merge: [String] = []

    @OptionGroup var sandboxOptions: SandboxOptions

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments, after --.")
    var command: [String] = []

    func run() throws { throw ExitCode(execute()) }

    func execute() -> Int32 {
        do {
            var cmd = command
            if cmd.first == "--" { cmd.removeFirst() }
            guard !cmd.isEmpty || !merge.isEmpty else {
                throw AirlockError(
                    .usage, "no command given", hint: "airlock profile record [--out FILE] [--base P] -- CMD ARGS…")
            }
            if let out {
                // Fail before running anything, not after, when the profile cannot be written.
                let dir = (out as NSString).deletingLastPathComponent
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir.isEmpty ? "." : dir, isDirectory: &isDir),
                    isDir.boolValue
                else {
                    throw AirlockError(
                        .missingFile, "--out \(out): the directory '\(dir)' does not exist", hint: "create it first")
                }
            }
            var recorded: RecordedProfile?
            var status: Int32 = 0
            if !cmd.isEmpty {
                let baseProfile = try ProfileSearch.load(base)
                let sandbox = try Sandbox.makeDefault()
                defer { sandbox.close() }
                let forwarder = SignalForwarder(sandbox: sandbox)
                defer { withExtendedLifetime(forwarder) {} }
                var outcome: ProfileRecorder.Outcome?
                // `extends` in the written file: a path is made absolute, since the profile may be
                // written elsewhere and relative parents are resolved from the file's directory.
                let reference =
                    ProfileLoader.isPath(base) && !base.hasPrefix("/")
                    ? PathSyntax.normalized(FileManager.default.currentDirectoryPath + "/" + base) : base
                // Without --out the profile goes to standard output, so the command's goes to stderr.
                _ = try ProfileLaunch.run(
                    sandbox: sandbox, profile: baseProfile, command: cmd, options: sandboxOptions,
                    stdio: out == nil ? (0, 2, 2) : (0, 1, 2)
                ) { spec, identity in
                    let o = try ProfileRecorder.record(
                        sandbox: sandbox, spec: spec, identity: identity, baseReference: reference)
                    outcome = o
                    return o.result
                }
                guard let outcome else { return ExitStatus.usage }
                status = outcome.result.exitCode
                if status != 0 {
                    warn(
                        "the recorded command failed (exit status \(status)\(outcome.result.timedOut ? ", timed out" : "")); writing what was observed, marked PARTIAL"
                    )
                }
                if !outcome.observations.listenerReceived {
                    warn("no call was recorded: the command did not start")
                }
                recorded = outcome.profile
            }
            for file in merge {
                let text = String(decoding: try YAMLReader.readFile(file), as: UTF8.self)
                let other = try RecordedProfile.parse(text: text, file: file)
                if recorded == nil { recorded = other } else { try recorded!.merge(other) }
            }
            let profile = recorded!
            let profileName =
                name ?? out.map { ProfileLoaderNames.stem(of: $0) } ?? "recorded"
            guard ProfileLoader.isValidName(profileName) else {
                throw AirlockError(
                    .usage, "'\(profileName)' is not a valid profile name",
                    hint: "pass --name with letters, digits, '.', '_' and '-' only")
            }
            let yaml = profile.yaml(name: profileName)
            if let out {
                do { try Data(yaml.utf8).write(to: URL(fileURLWithPath: out)) } catch {
                    FileHandle.standardOutput.write(Data(yaml.utf8))
                    throw AirlockError(
                        .missingFile, "cannot write \(out): \(error.localizedDescription)",
                        hint: "the profile was printed to standard output instead")
                }
                info(
                    "wrote \(out): \(profile.calls.count) calls allowed, \(profile.argumentRules.count) by argument value\(profile.isPartial ? " (PARTIAL)" : "")"
                )
            } else {
                FileHandle.standardOutput.write(Data(yaml.utf8))
            }
            return status
        } catch {
            return report(error)
        }
    }
}

/// File-name helpers shared by the profile commands.
enum ProfileLoaderNames {
    /// `dir/hello.yaml` → `hello`.
    static func stem(of path: String) -> String {
        var last = (path as NSString).lastPathComponent
        for ext in [".yaml", ".yml", ".json"] where last.hasSuffix(ext) { last = String(last.dropLast(ext.count)) }
        return last
    }
}

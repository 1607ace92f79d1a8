import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock profile test`: run a profile's test cases, each denied case with a control run.
struct ProfileTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run test cases (commands with expected outcomes) under a profile.",
        discussion: """
            Each case runs in its own sandbox under the profile. 'allowed' passes on exit status \
            0 (and the expected output, when given). 'denied' with an errno passes when the \
            command fails and its output names that errno (number, name or message, e.g. the \
            probe's 'errno=1'); with a signal, when the command is killed by it. Every denied \
            case also runs once under the same profile without its seccomp filter as a control: \
            when the control fails too, the case is INCONCLUSIVE (it could pass for the wrong \
            reason). Exit status 0 only when every case passes.

            Default case file: cases/<profile>.yaml next to the profile file (for a name, \
            Profiles/cases/<name>.yaml).
            """)

    @Argument(help: "Profile name or file.")
    var profile: String

    @Option(help: "The case file (default: cases/<profile>.yaml next to the profile).")
    var cases: String?

    @Option(help: "Also write the results as JUnit XML to this file.")
    var junit: String?

    @OptionGroup var sandboxOptions: SandboxOptions

    func run() throws { throw ExitCode(execute()) }

    func execute() -> Int32 {
        do {
            let loaded = try ProfileLoader(searchPaths: ProfileSearch.paths, syscalls: HostSyscalls()).load(
                profile)
            for w in loaded.warnings { warn(w) }
            let caseFile = try cases ?? defaultCaseFile()
            let text = String(decoding: try YAMLReader.readFile(caseFile), as: UTF8.self)
            let file = try ProfileCaseFile.parse(text: text, file: caseFile, syscalls: HostSyscalls())
            if let intended = file.profile, intended != loaded.profile.name {
                warn("\(caseFile) is written for profile '\(intended)', but runs under '\(loaded.profile.name)'")
            }
            let binds = file.binds.map { BindMount(source: $0.source, destination: $0.destination) }
            let visible =
                loaded.profile.filesystem.binds + binds + (try sandboxOptions.binds.map(ExecCommand.parseBind))
            for c in file.cases { try Self.checkProgram(c, binds: visible) }

            let sandbox = try Sandbox.makeDefault()
            defer { sandbox.close() }
            let forwarder = SignalForwarder(sandbox: sandbox)
            defer { withExtendedLifetime(forwarder) {} }
            var control = loaded.profile
            control.seccomp = SeccompSpec(defaultAction: .allow)
            var results: [ProfileCaseResult] = []
            for c in file.cases {
                let start = Date()
                var r: ProfileCaseResult
                do {
                    let run = try runOnce(sandbox, loaded.profile, c.command, binds)
                    r = Self.judge(c, run)
                    if case .deniedErrno = c.expectation, r.outcome == .pass {
                        r = Self.judgeControl(r, try runOnce(sandbox, control, c.command, binds))
                    } else if case .deniedSignal = c.expectation, r.outcome == .pass {
                        r = Self.judgeControl(r, try runOnce(sandbox, control, c.command, binds))
                    }
                } catch let e as AirlockError {
                    r = ProfileCaseResult(name: c.name, outcome: .error, detail: e.description)
                }
                r.seconds = Date().timeIntervalSince(start)
                results.append(r)
            }
            print(ProfileCaseReport.text(results, profile: loaded.profile.name), terminator: "")
            if let junit {
                try Data(ProfileCaseReport.junit(results, suite: "airlock.profile.\(loaded.profile.name)").utf8).write(
                    to: URL(fileURLWithPath: junit))
            }
            return results.allSatisfy { $0.outcome == .pass } ? 0 : 1
        } catch {
            return report(error)
        }
    }

    func defaultCaseFile() throws -> String {
        let candidates: [String]
        if ProfileLoader.isPath(profile) {
            let stem = ProfileLoaderNames.stem(of: profile)
            candidates = [
                ((profile as NSString).deletingLastPathComponent as NSString).appendingPathComponent(
                    "cases/" + stem + ".yaml")
            ]
        } else {
            candidates = ProfileSearch.paths.map { "\($0)/cases/\(profile).yaml" }
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw AirlockError(
                .missingFile,
                "no case file for profile '\(profile)' (looked for \(candidates.joined(separator: ", ")))",
                hint: "pass --cases FILE")
        }
        return found
    }

    /// One sandboxed run with stdout and stderr captured (together) in a file.
    func runOnce(_ sandbox: Sandbox, _ profile: Profile, _ command: [String], _ binds: [BindMount]) throws -> (
        status: Int32, output: String
    ) {
        let path = sandbox.state.path + "/case-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AirlockError(.sandboxSetup, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(fd)
            close(null)
            unlink(path)
        }
        let result = try ProfileLaunch.run(
            sandbox: sandbox, profile: profile, command: command, options: sandboxOptions, stdio: (null, fd, fd),
            extraBinds: binds
        ) { spec, identity in try sandbox.runBlocking(spec, identity: identity) }
        let data = FileManager.default.contents(atPath: path) ?? Data()
        return (result.exitCode, String(decoding: data.prefix(1 << 20), as: UTF8.self))
    }

    static func judge(_ c: ProfileCaseFile.Case, _ run: (status: Int32, output: String)) -> ProfileCaseResult {
        let about = c.syscall.map { " [\($0)]" } ?? ""
        let excerpt = run.output.split(separator: "\n").prefix(3).joined(separator: " | ")
        func fail(_ why: String) -> ProfileCaseResult {
            ProfileCaseResult(
                name: c.name, outcome: .fail, detail: "\(why)\(about); output: \(excerpt.isEmpty ? "(none)" : excerpt)")
        }
        switch c.expectation {
        case .allowed(let output):
            if run.status != 0 { return fail("expected allowed, but the command exited with status \(run.status)") }
            if let output, !run.output.contains(output) { return fail("expected the output to contain '\(output)'") }
            return ProfileCaseResult(name: c.name, outcome: .pass)
        case .deniedErrno(let e):
            if run.status == 0 {
                return fail("expected denied with \(ErrnoName.name(e) ?? String(e)), but the command succeeded")
            }
            if run.status > 128 {
                return fail(
                    "expected errno \(ErrnoName.name(e) ?? String(e)), but the command was killed by signal \(run.status - 128)"
                )
            }
            let message = String(cString: strerror(e))
            let names = ErrnoName.table.filter { $0.value == e }.map(\.key)
            let matched =
                run.output.contains("errno=\(e) ") || run.output.contains("errno=\(e)\n")
                || run.output.contains(message)
                || names.contains { run.output.contains($0) }
            if !matched {
                return fail(
                    "expected the output to name \(ErrnoName.name(e) ?? String(e)) ('\(message)', errno=\(e)), exit status \(run.status)"
                )
            }
            return ProfileCaseResult(name: c.name, outcome: .pass)
        case .deniedSignal(let s):
            if run.status != 128 + s {
                return fail("expected to be killed by signal \(s), but the exit status was \(run.status)")
            }
            return ProfileCaseResult(name: c.name, outcome: .pass)
        }
    }

    /// A denied case passes only when the same command succeeds without the filter.
    static func judgeControl(_ r: ProfileCaseResult, _ control: (status: Int32, output: String)) -> ProfileCaseResult {
        guard control.status != 0 else { return r }
        let excerpt = control.output.split(separator: "\n").prefix(2).joined(separator: " | ")
        return ProfileCaseResult(
            name: r.name, outcome: .inconclusive,
            detail:
                "the control run without the seccomp filter failed too (exit status \(control.status): \(excerpt)), so the denial may not come from the profile"
        )
    }

    /// The case's program must exist inside the sandbox (through the profile's binds).
    static func checkProgram(_ c: ProfileCaseFile.Case, binds: [BindMount]) throws {
        let program = c.command[0]
        let sorted = binds.sorted { $0.destination.count > $1.destination.count }
        func host(_ p: String) -> String? {
            sorted.first { p == $0.destination || p.hasPrefix($0.destination + "/") }.map {
                $0.source + p.dropFirst($0.destination.count)
            }
        }
        if program.hasPrefix("/") {
            if ["/workspace", "/tmp", "/home", "/proc", "/dev"].contains(where: { program.hasPrefix($0 + "/") }) {
                return
            }
            if let h = host(program), FileManager.default.isExecutableFile(atPath: h) { return }
        } else {
            if ["/usr/local/bin", "/usr/bin", "/bin"].contains(where: {
                host($0 + "/" + program).map { FileManager.default.isExecutableFile(atPath: $0) } ?? false
            }) {
                return
            }
        }
        throw AirlockError(
            .invalidFile,
            "\(c.location): case '\(c.name)' runs '\(program)', which does not exist in the sandbox (it sees only the profile's binds and the case file's binds)",
            hint: "fix the path, install the program, or bind it with the case file's 'binds:'")
    }
}

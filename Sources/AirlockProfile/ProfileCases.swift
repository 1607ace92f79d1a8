import AirlockCore
import Foundation

/// A case file for `airlock profile test`: commands with the outcome each must have under the
/// profile.
///
/// ```yaml
/// profile: default                      # optional: the profile the cases are written for
/// binds:                                # optional extra read-only binds; ${VAR} from the environment
///   - {src: "${AIRLOCK_PROBE}", dst: /opt/probe/airlock-probe}
/// cases:
///   - name: ptrace is denied
///     run: [/opt/probe/airlock-probe, syscall, ptrace, 0]   # argv, or a string for /bin/sh -c
///     expect: denied                    # allowed | denied
///     errno: EPERM                      # denied: a named errno, or…
///     # signal: SIGSYS                  # …killed by this signal
///     syscall: ptrace                   # optional: the call the case is about
///   - name: the shell works
///     run: echo hello
///     expect: allowed
///     output: hello                     # optional: a substring of the standard output
/// ```
public struct ProfileCaseFile: Sendable {
    /// What a case expects.
    public enum Expectation: Hashable, Sendable {
        /// Exit status 0 and, when given, this text in the standard output.
        case allowed(output: String?)
        /// A non-zero exit whose output names this errno (number, name or message).
        case deniedErrno(Int32)
        /// Killed by this signal (exit status 128+N).
        case deniedSignal(Int32)
    }

    /// One case.
    public struct Case: Sendable {
        public var name: String
        public var command: [String]
        public var expectation: Expectation
        public var syscall: String?
        public var location: SourceLocation
    }

    /// An extra bind, with `${VAR}` already expanded.
    public struct Bind: Sendable {
        public var source: String
        public var destination: String
        public var location: SourceLocation
    }

    public var file: String
    public var profile: String?
    public var binds: [Bind]
    public var cases: [Case]

    static let topFields = ["profile", "binds", "cases"]
    static let caseFields = ["name", "run", "expect", "errno", "signal", "output", "syscall"]
    /// Signal names accepted in `signal:` (Linux numbers).
    public static let signals: [String: Int32] = [
        "SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7, "SIGFPE": 8,
        "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15,
        "SIGSYS": 31, "SIGXCPU": 24, "SIGXFSZ": 25,
    ]

    /// Parse `text` (the file `file`), validating every field with its location.
    public static func parse(
        text: String, file: String, syscalls: any SyscallTable,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ProfileCaseFile {
        let root = try YAMLReader.parse(text, file: file)
        let map = try root.mapping(allowedKeys: topFields)
        var out = ProfileCaseFile(file: file, profile: try map["profile"]?.nonEmptyString(), binds: [], cases: [])
        for b in try map["binds"]?.sequence() ?? [] {
            let m = try b.mapping(allowedKeys: ["src", "dst"])
            let srcNode = try m.required("src")
            let src = try expand(try srcNode.nonEmptyString(), at: srcNode, environment: environment)
            guard src.hasPrefix("/") else {
                throw srcNode.error("\(srcNode.fieldDescription) must be an absolute path, not '\(src)'")
            }
            guard FileManager.default.fileExists(atPath: src) else {
                throw srcNode.error(
                    "the program or file '\(src)' named in \(srcNode.fieldDescription) does not exist on this host",
                    hint: "build it (e.g. `make .build/airlock-probe`) or fix the path")
            }
            let dstNode = m["dst"] ?? srcNode
            let dst = m["dst"] == nil ? src : try dstNode.nonEmptyString()
            guard dst.hasPrefix("/") else {
                throw dstNode.error("\(dstNode.fieldDescription) must be an absolute path")
            }
            out.binds.append(Bind(source: src, destination: dst, location: b.location))
        }
        let casesNode = try map.required("cases", hint: "add a list of cases, each with name, run and expect")
        for c in try casesNode.sequence() {
            out.cases.append(try parseCase(c, syscalls: syscalls))
        }
        var seen = Set<String>()
        for c in out.cases where !seen.insert(c.name).inserted {
            throw AirlockError(
                .invalidFile, "\(c.location): two cases are named '\(c.name)'", hint: "give each case its own name")
        }
        return out
    }

    static func parseCase(_ node: YAMLNode, syscalls: any SyscallTable) throws -> Case {
        let m = try node.mapping(allowedKeys: caseFields)
        let name = try m.required("name", hint: "say what the case checks, e.g. 'name: ptrace is denied'")
            .nonEmptyString()
        let runNode = try m.required("run", hint: "give the command as a list (argv) or a string (run by /bin/sh -c)")
        let command: [String]
        if let s = runNode.scalarText {
            guard !s.isEmpty else { throw runNode.error("\(runNode.fieldDescription) must not be empty") }
            command = ["/bin/sh", "-c", s]
        } else {
            command = try runNode.stringList()
            guard !command.isEmpty else { throw runNode.error("\(runNode.fieldDescription) must not be an empty list") }
        }
        let expectNode = try m.required("expect", hint: "add 'expect: allowed' or 'expect: denied'")
        let expect = try expectNode.oneOf(["allowed", "denied"])
        let expectation: Expectation
        if expect == "allowed" {
            for f in ["errno", "signal"] where m[f] != nil {
                throw try m.required(f).error(
                    "field '\(node.path).\(f)' only applies to 'expect: denied'", hint: "remove it, or expect denied")
            }
            expectation = .allowed(output: try m["output"]?.string())
        } else {
            if let o = m["output"] {
                throw o.error("field '\(o.path)' only applies to 'expect: allowed'", hint: "remove it")
            }
            switch (m["errno"], m["signal"]) {
            case (let e?, nil):
                let text = try e.string()
                guard let n = ErrnoName.number(text) else {
                    throw e.error(
                        "\(e.fieldDescription) must be an errno name such as EPERM, not '\(text)'\(Suggest.didYouMean(text.uppercased(), in: ErrnoName.table.keys))"
                    )
                }
                expectation = .deniedErrno(n)
            case (nil, let s?):
                let text = try s.string().uppercased()
                let full = text.hasPrefix("SIG") ? text : "SIG" + text
                guard let n = signals[full] else {
                    throw s.error(
                        "\(s.fieldDescription) must be a signal name such as SIGSYS, not '\(text)'\(Suggest.didYouMean(full, in: signals.keys))"
                    )
                }
                expectation = .deniedSignal(n)
            case (nil, nil):
                throw node.error(
                    "case '\(name)' expects denied but says neither how (errno) nor by what signal",
                    hint: "add 'errno: EPERM' (or the errno the profile returns) or 'signal: SIGSYS'")
            default:
                throw node.error("case '\(name)' gives both errno and signal", hint: "keep the one the profile does")
            }
        }
        var syscall: String?
        if let s = m["syscall"] {
            let text = try s.nonEmptyString()
            guard syscalls.number(of: text) != nil else {
                throw s.error(
                    "unknown syscall '\(text)' in \(s.fieldDescription)\(Suggest.didYouMean(text, in: syscalls.allNames))"
                )
            }
            syscall = text
        }
        return Case(name: name, command: command, expectation: expectation, syscall: syscall, location: node.location)
    }

    /// `${VAR}` → the variable's value; an unset variable is an error naming it.
    static func expand(_ s: String, at node: YAMLNode, environment: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(s)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw node.error("unterminated '${' in \(node.fieldDescription)")
            }
            let name = String(rest[start.upperBound..<end])
            guard let v = environment[name], !v.isEmpty else {
                throw node.error(
                    "\(node.fieldDescription) uses ${\(name)}, which is not set",
                    hint:
                        "set \(name) to the file's path (the test suite sets AIRLOCK_PROBE; `make .build/airlock-probe` builds the probe)"
                )
            }
            out += v
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}

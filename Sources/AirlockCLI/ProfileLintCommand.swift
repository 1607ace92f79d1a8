import AirlockCore
import AirlockProfile
import AirlockSandbox
import ArgumentParser
import Foundation

/// `airlock profile lint`: validate profiles and warn about risky allowances.
struct ProfileLintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Validate profiles and warn about risky allowances.",
        discussion: """
            Checks the schema and every syscall name against this host's libseccomp (names it \
            cannot resolve are reported, with a suggestion; in an OCI/Docker file skipped allow \
            rules are listed as warnings), compiles the filter, then warns — with the reason — \
            about nested user namespaces, mount, ptrace, bpf, keyctl, io_uring, perf_event_open, \
            userfaultfd, personality, AF_VSOCK, kept capabilities, host network, writable binds \
            and missing limits. Exit status 1 on errors, and on warnings with --strict.
            """)

    @Argument(help: "Profile names or files.")
    var profiles: [String]

    @Flag(help: "Exit 1 on warnings too.")
    var strict = false

    func run() throws { throw ExitCode(execute()) }

    func execute() -> Int32 {
        var errors = 0
        var warnings = 0
        let loader = ProfileLoader(searchPaths: ProfileSearch.paths, syscalls: HostSyscalls())
        for ref in profiles {
            var findings: [LintFinding] = []
            do {
                let loaded = try loader.load(ref)
                findings = try ProfileLinter().lint(loaded)
                _ = try SeccompProgramCache().program(for: loaded.profile.seccomp, profileName: loaded.profile.name)
            } catch let e as AirlockError {
                // The loader stops at the first unknown syscall; the scan lists them all.
                let unknown = ProfileSyscallScan.unknownNames(in: ref, searchPaths: ProfileSearch.paths)
                if unknown.isEmpty || !e.message.contains("unknown syscall") {
                    // Messages that start with "file:line:" keep it as their location.
                    let first = e.message.split(separator: " ").first ?? ""
                    let located = first.hasSuffix(":") && first.contains(":") && first.dropLast().contains(":")
                    findings.append(
                        LintFinding(
                            severity: .error, check: "invalid", location: located ? String(first.dropLast()) : ref,
                            message: (located ? String(e.message.dropFirst(first.count + 1)) : e.message)
                                + (e.hint.map { " (\($0))" } ?? "")))
                }
                findings += unknown
            } catch {
                findings.insert(
                    LintFinding(severity: .error, check: "invalid", location: ref, message: "\(error)"), at: 0)
            }
            let e = findings.filter { $0.severity == .error }.count
            let w = findings.count - e
            errors += e
            warnings += w
            for f in findings { print(f.description) }
            print(
                "\(ref): \(e == 0 ? "valid" : "INVALID"), \(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")"
            )
        }
        return errors > 0 || (strict && warnings > 0) ? 1 : 0
    }
}

/// Finds every syscall name a profile file names that libseccomp cannot resolve (the loader
/// stops at the first), so lint reports them all.
enum ProfileSyscallScan {
    static func unknownNames(in ref: String, searchPaths: [String]) -> [LintFinding] {
        var path = ref
        if !ProfileLoader.isPath(ref) {
            path = searchPaths.map { "\($0)/\(ref).yaml" }.first { FileManager.default.fileExists(atPath: $0) } ?? ""
        }
        guard let bytes = try? YAMLReader.readFile(path),
            let root = try? YAMLReader.parse(String(decoding: bytes, as: UTF8.self), file: path),
            let map = try? root.mapping()
        else { return [] }
        var nameNodes: [YAMLNode] = []
        if let seccomp = try? map["seccomp"]?.mapping(), let rules = try? seccomp["rules"]?.sequence() {
            for r in rules { nameNodes += (try? r.mapping()["names"]?.sequence()) ?? [] }
        }
        if let syscalls = try? map["syscalls"]?.sequence() {
            for s in syscalls { nameNodes += (try? s.mapping()["names"]?.sequence()) ?? [] }
        }
        let table = HostSyscalls()
        var out: [LintFinding] = []
        var seen = Set<String>()
        for n in nameNodes {
            guard let name = n.scalarText, table.number(of: name) == nil, seen.insert(name).inserted else { continue }
            out.append(
                LintFinding(
                    severity: .error, check: "unknown-syscall", location: n.location.description,
                    message:
                        "libseccomp \(HostSyscalls.libraryVersion) cannot resolve syscall '\(name)'\(Suggest.didYouMean(name, in: table.allNames))"
                ))
        }
        return out
    }
}

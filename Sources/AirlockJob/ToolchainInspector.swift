import AirlockCore
import AirlockProfile
import AirlockProvenance
import Foundation

/// Describes the host toolchain a profile binds into sandboxes, for provenance and SBOMs: the
/// Debian packages that own the usual build tools (and libc), with their versions, and the C
/// compiler's `--version`. Computed once per process; best effort — a host without dpkg gets
/// the bind paths only.
public enum ToolchainInspector {
    /// Tools whose owning packages describe "the toolchain" of a bound `/usr`.
    static let tools = [
        "/usr/bin/cc", "/usr/bin/c++", "/usr/bin/ld", "/usr/bin/as", "/usr/bin/make", "/bin/sh", "/usr/bin/git",
        "/usr/bin/python3",
    ]

    public struct Description: Sendable {
        public var packages: [(name: String, version: String)]
        public var compilerVersion: String?
    }

    public static let host: Description = {
        var owners = Set<String>(["libc6"])
        for tool in tools {
            guard let real = realpath(tool, nil) else { continue }
            let path = String(cString: real)
            free(real)
            if let out = run(["/usr/bin/dpkg-query", "-S", path]), let pkg = out.split(separator: ":").first {
                owners.insert(String(pkg))
            }
        }
        var packages: [(String, String)] = []
        if let out = run(["/usr/bin/dpkg-query", "-W", "-f", "${Package}\t${Version}\n"] + owners.sorted()) {
            for line in out.split(separator: "\n") {
                let f = line.split(separator: "\t")
                if f.count == 2 { packages.append((String(f[0]), String(f[1]))) }
            }
        }
        let cc = run(["/usr/bin/cc", "--version"])?.split(separator: "\n").first.map(String.init)
        return Description(packages: packages.sorted { $0.0 < $1.0 }, compilerVersion: cc)
    }()

    /// One component per read-only bind of `profile` (symlink-only binds are skipped).
    public static func components(for profile: Profile) -> [BuildRecord.ToolchainComponent] {
        var out: [BuildRecord.ToolchainComponent] = []
        for b in profile.filesystem.binds where b.readOnly {
            var st = stat()
            guard lstat(b.source, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK else { continue }
            let isUsr = b.source == "/usr"
            out.append(
                .init(
                    name: b.destination, uri: "file://" + b.source, digest: [:],
                    version: isUsr ? host.compilerVersion : nil, packages: isUsr ? host.packages : []))
        }
        return out
    }

    static func run(_ argv: [String]) -> String? {
        guard FileManager.default.isExecutableFile(atPath: argv[0]) else { return nil }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}

/// The git checkout a job file lives in, when there is one (repository, ref, commit).
public enum SourceInspector {
    public static func source(near directory: String) -> BuildRecord.SourceInfo? {
        // Spawning git costs milliseconds; only ask it when a checkout is there at all.
        guard isInsideCheckout(directory), let commit = git(directory, "rev-parse", "HEAD") else { return nil }
        let ref = git(directory, "symbolic-ref", "-q", "HEAD")
        let repo =
            git(directory, "config", "--get", "remote.origin.url")
            ?? git(directory, "rev-parse", "--show-toplevel").map { "file://" + $0 }
        return BuildRecord.SourceInfo(repository: repo ?? "file://" + directory, ref: ref, commit: commit)
    }

    /// Whether `directory` or one of its parents holds a `.git` entry.
    static func isInsideCheckout(_ directory: String) -> Bool {
        var dir = (directory as NSString).standardizingPath
        while true {
            if access(dir + "/.git", F_OK) == 0 { return true }
            if dir == "/" || dir.isEmpty { return false }
            dir = (dir as NSString).deletingLastPathComponent
        }
    }

    static func git(_ dir: String, _ args: String...) -> String? {
        ToolchainInspector.run(["/usr/bin/git", "-C", dir] + args)?.trimmingCharacters(in: .whitespacesAndNewlines)
            .nilIfEmpty
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

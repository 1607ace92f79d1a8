import AirlockCore
import AirlockOS
import AirlockProfile
import AirlockProvenance
import AirlockSandbox
import Foundation
import Synchronization

/// Describes the host toolchain a profile binds into sandboxes, for provenance and SBOMs: the
/// Debian packages that own the usual build tools (and libc), with their versions, and the C
/// compiler's `--version`. Best effort — a host without dpkg gets the bind paths only.
///
/// Asking dpkg costs about a second (`dpkg-query -S` reads every package's file list), so the
/// answer is computed once per process, and — once `cache(in:)` names a state directory, as
/// `Sandbox.makeDefault` does — kept on disk for the next process: `<state>/cache/toolchain`,
/// 0600, reused while its fingerprint matches. The fingerprint is the identity (device, inode,
/// size, mtime) of dpkg's database `/var/lib/dpkg/status`, which every package install, removal
/// or upgrade rewrites, and of each tool's resolved file (an `update-alternatives` switch of
/// `cc` changes it without touching the database).
public enum ToolchainInspector {
    /// Tools whose owning packages describe "the toolchain" of a bound `/usr`.
    static let tools = [
        "/usr/bin/cc", "/usr/bin/c++", "/usr/bin/ld", "/usr/bin/as", "/usr/bin/make", "/bin/sh", "/usr/bin/git",
        "/usr/bin/python3",
    ]
    static let packageDatabase = "/var/lib/dpkg/status"
    /// A query that takes longer than this is given up (the description is best effort).
    static let queryTimeout = 30.0

    public struct Description: Sendable, Equatable {
        public var packages: [(name: String, version: String)]
        public var compilerVersion: String?

        public static func == (a: Description, b: Description) -> Bool {
            a.compilerVersion == b.compilerVersion && a.packages.map(\.name) == b.packages.map(\.name)
                && a.packages.map(\.version) == b.packages.map(\.version)
        }
    }

    /// Where the description is cached, and the description once known (for the process's life).
    private static let shared = Mutex<(state: StateDirectory?, memo: Description?)>((nil, nil))

    /// Keep the description in `state`'s cache directory from now on (first call wins).
    public static func cache(in state: StateDirectory) {
        shared.withLock { if $0.state == nil { $0.state = state } }
    }

    /// This host's toolchain: from memory, else from the cache file when its fingerprint
    /// matches, else inspected now (and the cache file rewritten).
    public static var host: Description {
        shared.withLock { s in
            if let memo = s.memo { return memo }
            let d = cachedOrInspected(state: s.state)
            s.memo = d
            return d
        }
    }

    static func cachedOrInspected(state: StateDirectory?) -> Description {
        let print = fingerprint()
        if let state, let d = load(state.path + "/" + cacheName, fingerprint: print) { return d }
        let d = inspect()
        // Best effort: without the file the next process inspects again.
        if let dir = state?.cacheDirectory("cache") {
            try? PrivateFile.replace(dir + "/toolchain", contents: Array(encode(d, fingerprint: print).utf8))
        }
        return d
    }

    static let cacheName = "cache/toolchain"

    /// Ask dpkg and the compiler now, without any cache.
    public static func inspect() -> Description {
        var owners = Set<String>(["libc6"])
        var paths: [String] = []
        for tool in tools {
            guard let real = realpath(tool, nil) else { continue }
            paths.append(String(cString: real))
            free(real)
        }
        // One query for every tool; it exits 1 when a path has no package but still lists the
        // others ("pkg: path", and "diversion by …" lines, which name no owner).
        if !paths.isEmpty, let out = query(["/usr/bin/dpkg-query", "-S"] + paths, anyStatus: true) {
            for line in out.split(separator: "\n") where !line.hasPrefix("diversion by ") {
                if let pkg = line.split(separator: ":").first { owners.insert(String(pkg)) }
            }
        }
        var packages: [(String, String)] = []
        if let out = query(["/usr/bin/dpkg-query", "-W", "-f", "${Package}\t${Version}\n"] + owners.sorted()) {
            for line in out.split(separator: "\n") {
                let f = line.split(separator: "\t")
                if f.count == 2 { packages.append((String(f[0]), String(f[1]))) }
            }
        }
        let cc = query(["/usr/bin/cc", "--version"])?.split(separator: "\n").first.map(String.init)
        return Description(packages: packages.sorted { $0.0 < $1.0 }, compilerVersion: cc)
    }

    /// What the description depends on, one line per file: the package database and each
    /// tool's resolved file, by device, inode, size and mtime.
    static func fingerprint() -> String {
        func identity(_ path: String) -> String {
            var st = stat()
            guard stat(path, &st) == 0 else { return "absent" }
            return "\(st.st_dev) \(st.st_ino) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        }
        var lines = ["\(packageDatabase) \(identity(packageDatabase))"]
        for tool in tools {
            guard let real = realpath(tool, nil) else {
                lines.append("\(tool) absent")
                continue
            }
            let path = String(cString: real)
            free(real)
            lines.append("\(tool) -> \(path) \(identity(path))")
        }
        return lines.joined(separator: "\n")
    }

    static let magic = "airlock toolchain cache 1"

    /// The cache file: the magic line, `fingerprint` lines, a blank line, then `compiler` and
    /// `package NAME\tVERSION` lines.
    static func encode(_ d: Description, fingerprint: String) -> String {
        var out = magic + "\n" + fingerprint + "\n\n"
        if let cc = d.compilerVersion { out += "compiler " + cc + "\n" }
        for p in d.packages { out += "package \(p.name)\t\(p.version)\n" }
        return out
    }

    /// The description in `file` when it was written for `fingerprint`; nil otherwise.
    static func load(_ file: String, fingerprint: String) -> Description? {
        guard let bytes = try? PrivateFile.readIfExists(file) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        let head = magic + "\n" + fingerprint + "\n\n"
        guard text.hasPrefix(head) else { return nil }
        var d = Description(packages: [], compilerVersion: nil)
        for line in text.dropFirst(head.count).split(separator: "\n") {
            if line.hasPrefix("compiler ") {
                d.compilerVersion = String(line.dropFirst("compiler ".count))
            } else if line.hasPrefix("package ") {
                let f = line.dropFirst("package ".count).split(separator: "\t")
                guard f.count == 2 else { return nil }
                d.packages.append((String(f[0]), String(f[1])))
            } else {
                return nil
            }
        }
        return d
    }

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

    /// Run a host command (stdin /dev/null, stderr discarded); its stdout when it exited 0 (or
    /// at all, with `anyStatus`), nil when it is missing, fails or times out.
    static func query(_ argv: [String], anyStatus: Bool = false, workingDirectory: String? = nil) -> String? {
        guard access(argv[0], X_OK) == 0 else { return nil }
        let command = HostCommand(
            argv[0], Array(argv.dropFirst()), workingDirectory: workingDirectory, timeout: queryTimeout)
        guard let r = try? command.run(), !r.timedOut, r.signal == nil, r.status == 0 || anyStatus else { return nil }
        return r.stdoutText
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
        ToolchainInspector.query(["/usr/bin/git", "-C", dir] + args)?.trimmingCharacters(in: .whitespacesAndNewlines)
            .nilIfEmpty
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

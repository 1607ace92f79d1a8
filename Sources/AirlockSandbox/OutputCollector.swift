import AirlockCore
import AirlockOS
import Foundation

/// Copies a finished job's declared outputs out of its workspace, safely.
///
/// The job is dead by now, but it chose the workspace's contents: a symlink to `/etc/shadow`
/// must not be followed by the (privileged) runner. Every match is resolved and must stay inside
/// the workspace; only regular files and directories are copied (symlinks inside are recreated
/// as symlinks, never followed); nothing is copied with the job's ownership or set-id bits.
enum OutputCollector {
    static func collect(patterns: [String], workspace: String, to outDir: String, jobFile: String) throws -> [String] {
        let root = (try? FileManager.default.destinationOfSymbolicLink(atPath: workspace)) ?? workspace
        let realRoot =
            realpath(root, nil).map { p in
                defer { free(p) }; return String(cString: p)
            } ?? root
        var copied: [String] = []
        for pattern in patterns {
            let matches = glob(realRoot + "/" + pattern)
            if matches.isEmpty {
                throw AirlockError(
                    .init("job.output-missing"),
                    "\(jobFile): output '\(pattern)' was not produced (nothing in /workspace matches it)",
                    hint: "check the step that should create it, or fix the path in `outputs`")
            }
            for m in matches {
                guard let rp = realpath(m, nil) else { continue }
                let real = String(cString: rp)
                free(rp)
                guard real == realRoot || real.hasPrefix(realRoot + "/") else {
                    throw AirlockError(
                        .init("job.output-escape"),
                        "\(jobFile): output '\(pattern)' resolves outside the workspace (\(m) -> \(real)); refusing to copy it",
                        hint: "outputs must be files the job wrote inside /workspace, not symlinks out of it")
                }
                let rel = String(m.dropFirst(realRoot.count + 1))
                try copyTree(from: m, to: outDir + "/" + rel)
                copied.append(rel)
            }
        }
        return copied.sorted()
    }

    static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }

    static func copyTree(from src: String, to dst: String) throws {
        var st = stat()
        guard lstat(src, &st) == 0 else { throw OSError("lstat", src) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            try fm.createDirectory(atPath: dst, withIntermediateDirectories: true)
            for child in try fm.contentsOfDirectory(atPath: src).sorted() {
                try copyTree(from: src + "/" + child, to: dst + "/" + child)
            }
        case S_IFREG:
            let inFD = try OwnedFD.open(src, O_RDONLY | O_NOFOLLOW)
            if fm.fileExists(atPath: dst) { try fm.removeItem(atPath: dst) }
            let outFD = try OwnedFD.open(
                dst, O_WRONLY | O_CREAT | O_EXCL, mode: (st.st_mode & 0o111) != 0 ? 0o755 : 0o644)
            while true {
                let chunk = try inFD.read(max: 1 << 20)
                if chunk.isEmpty { break }
                try outFD.writeAll(chunk)
            }
        case S_IFLNK:
            let target = try fm.destinationOfSymbolicLink(atPath: src)
            if fm.fileExists(atPath: dst) { try fm.removeItem(atPath: dst) }
            try fm.createSymbolicLink(atPath: dst, withDestinationPath: target)
        default:
            break  // devices, fifos, sockets: never copied
        }
    }
}

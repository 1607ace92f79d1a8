import AirlockCore
import AirlockOS
import Crypto
import Foundation
import Synchronization

/// Digests of files for provenance and SBOMs: streamed in 1 MiB chunks (memory stays flat for any
/// size), files hashed in parallel on every core, paths normalised (relative, `/`-separated, no
/// `.` or `..`) and sorted so the same tree always gives the same list.
///
/// Directories are walked; symlinks are never followed — a symlink is recorded with the digest of
/// its target text (what `ln -s` would recreate); devices, fifos and sockets are skipped.
public enum FileHasher {
    public enum Kind: String, Sendable { case file, symlink }

    public struct Entry: Hashable, Sendable {
        /// Path relative to the root it was hashed under.
        public var path: String
        public var kind: Kind
        public var sha256: String
        /// Only when requested (SPDX 2.3 requires SHA-1 for files).
        public var sha1: String?
        public var size: UInt64
    }

    /// Hash `paths` (files or directories, relative to `root`). Throws when a path is missing.
    public static func hash(root: String, paths: [String], sha1: Bool = false) throws -> [Entry] {
        var jobs: [(rel: String, kind: Kind)] = []
        var seen = Set<String>()
        for p in paths {
            let rel = normalize(p)
            guard !rel.isEmpty || p == "." else { continue }
            try collect(root: root, rel: rel, into: &jobs, seen: &seen)
        }
        // With fewer files than cores, SHA-256 and SHA-1 of one file run as two tasks (the second
        // read comes from the page cache), so a single large output still uses every core.
        let split = sha1 && jobs.count < ProcessInfo.processInfo.activeProcessorCount
        let tasks: [(index: Int, part: Part)] = jobs.indices.flatMap { i in
            split && jobs[i].kind == .file ? [(i, Part.sha256), (i, Part.sha1)] : [(i, sha1 ? Part.both : Part.sha256)]
        }
        let work = jobs
        let results = Mutex([Entry?](repeating: nil, count: tasks.count))
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: tasks.count) { t in
            let (i, part) = tasks[t]
            do {
                let entry = try hashOne(root: root, rel: work[i].rel, kind: work[i].kind, part: part)
                results.withLock { $0[t] = entry }
            } catch {
                failure.withLock { if $0 == nil { $0 = error } }
            }
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
        var merged: [String: Entry] = [:]
        for e in results.withLock({ $0 }).compactMap({ $0 }) {
            if var have = merged[e.path] {
                if have.sha256.isEmpty { have.sha256 = e.sha256 }
                if have.sha1 == nil { have.sha1 = e.sha1 }
                merged[e.path] = have
            } else {
                merged[e.path] = e
            }
        }
        return merged.values.sorted { $0.path < $1.path }
    }

    enum Part { case sha256, sha1, both }

    /// Hash one file's contents (SHA-256, optionally SHA-1). Used by `hash` and benchmarks.
    public static func digest(fileAt path: String, sha1 wantSHA1: Bool = false) throws -> (
        sha256: String, sha1: String?, size: UInt64
    ) {
        try digest(fileAt: path, sha256: true, sha1: wantSHA1)
    }

    static func digest(fileAt path: String, sha256 want256: Bool, sha1 wantSHA1: Bool) throws -> (
        sha256: String, sha1: String?, size: UInt64
    ) {
        let fd = try OwnedFD.open(path, O_RDONLY | O_NOFOLLOW)
        _ = posix_fadvise(fd.raw, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        var h256 = want256 ? SHA256() : nil
        var h1 = wantSHA1 ? Insecure.SHA1() : nil
        let chunk = 1 << 20
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buf.deallocate() }
        var size: UInt64 = 0
        while true {
            let n = read(fd.raw, buf.baseAddress!, chunk)
            if n < 0 {
                if errno == EINTR { continue }
                throw OSError("read", path)
            }
            if n == 0 { break }
            let slice = UnsafeRawBufferPointer(rebasing: buf[0..<n])
            h256?.update(bufferPointer: slice)
            h1?.update(bufferPointer: slice)
            size += UInt64(n)
        }
        return (h256.map { hex($0.finalize()) } ?? "", h1.map { hex($0.finalize()) }, size)
    }

    static func hashOne(root: String, rel: String, kind: Kind, part: Part) throws -> Entry {
        let full = rel.isEmpty ? root : root + "/" + rel
        let sha1 = part != .sha256
        switch kind {
        case .file:
            let d = try digest(fileAt: full, sha256: part != .sha1, sha1: sha1)
            return Entry(path: rel, kind: .file, sha256: d.sha256, sha1: d.sha1, size: d.size)
        case .symlink:
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: full)
            let bytes = Array(target.utf8)
            return Entry(
                path: rel, kind: .symlink, sha256: hex(SHA256.hash(data: bytes)),
                sha1: sha1 ? hex(Insecure.SHA1.hash(data: bytes)) : nil, size: UInt64(bytes.count))
        }
    }

    static func collect(
        root: String, rel: String, into jobs: inout [(rel: String, kind: Kind)], seen: inout Set<String>
    ) throws {
        let full = rel.isEmpty ? root : root + "/" + rel
        var st = stat()
        guard lstat(full, &st) == 0 else {
            throw AirlockError(
                .missingFile, "cannot hash '\(rel)': \(String(cString: strerror(errno))) (\(full))",
                hint: "the file vanished or became unreadable while the job was recorded; run the job again")
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            if seen.insert(rel).inserted { jobs.append((rel, .file)) }
        case S_IFLNK:
            if seen.insert(rel).inserted { jobs.append((rel, .symlink)) }
        case S_IFDIR:
            for child in try FileManager.default.contentsOfDirectory(atPath: full).sorted() {
                try collect(root: root, rel: rel.isEmpty ? child : rel + "/" + child, into: &jobs, seen: &seen)
            }
        default:
            break
        }
    }

    /// `./a//b/../c/` → `a/c`.
    public static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." || c.isEmpty { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return parts.joined(separator: "/")
    }

    static func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in d {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

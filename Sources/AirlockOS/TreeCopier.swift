import CAirlockShims
import Glibc

/// Copies a tree between two `ConfinedDirectory`s by descriptor, the way `cp -a` would but
/// without ever following a symlink on either side: every destination is created with
/// `O_CREAT | O_EXCL | O_NOFOLLOW` / `mkdirat` / `symlinkat` under the destination descriptor;
/// modes are kept minus set-id and sticky bits (never widened), mtimes are kept, holes stay holes
/// (`SEEK_DATA`/`SEEK_HOLE` + `copy_file_range`), devices, fifos and sockets are skipped.
public final class TreeCopier {
    /// What the copy did.
    public struct Stats: Sendable {
        public var files = 0
        public var directories = 0
        public var symlinks = 0
        /// Fifos, sockets and devices passed over.
        public var skipped: [String] = []
        /// Data bytes written (holes excluded).
        public var bytes: UInt64 = 0
        /// The newest mtime seen (seconds).
        public var newestMTime: Int64 = 0
    }

    /// Why a copy stopped; `relative` is the entry's path relative to the copy's source root.
    public enum Refusal: Error, Sendable {
        case tooDeep(relative: String, limit: Int)
        case tooLarge(relative: String, limit: UInt64)
        case deadline(relative: String)
    }

    /// Give every copied entry to this owner (root mode: the sandbox's uid), or keep the runner's.
    public var owner: (uid: uid_t, gid: gid_t)?
    /// Stop when more data bytes than this would be written.
    public var byteLimit: UInt64 = .max
    /// Stop at this `CLOCK_MONOTONIC` time (seconds).
    public var deadline: Double?
    /// Directory nesting below the copied entry (each level holds two descriptors).
    public var maxDepth = 128
    /// Called for every entry before it is copied, with its path relative to the source root;
    /// throw to stop the copy (names with control characters, secrets in names, reserved names).
    public var check: (String) throws -> Void = { _ in }
    /// Called for every symlink with its relative path and target text: true recreates it,
    /// false skips it, a throw stops the copy.
    public var symlinkPolicy: (_ relative: String, _ target: String) throws -> Bool = { _, _ in true }

    public private(set) var stats = Stats()

    public init() {}

    /// Copy `name` in `source` to `newName` in `destination`; `relative` is its path from the
    /// root the caller reports against (for checks and messages).
    public func copy(
        _ name: String, from source: ConfinedDirectory, to destination: ConfinedDirectory, as newName: String,
        relative: String
    ) throws {
        guard let st = try source.status(name) else { throw OSError("fstatat", source.display(name), errno: ENOENT) }
        try copyEntry(name, st, from: source, to: destination, as: newName, relative: relative, depth: 0)
    }

    /// Copy an already-opened regular file or directory (`fd`, with its `fstat`) to `newName`.
    public func copy(opened fd: OwnedFD, status st: stat, to destination: ConfinedDirectory, as newName: String)
        throws
    {
        try check(newName)
        switch st.st_mode & S_IFMT {
        case S_IFREG: try copyFile(fd, st, to: destination, as: newName, relative: newName)
        case S_IFDIR:
            try copyDirectory(
                ConfinedDirectory(fd: fd, path: newName), st, to: destination, as: newName, relative: newName, depth: 0)
        default: stats.skipped.append(newName)
        }
    }

    private func copyEntry(
        _ name: String, _ st: stat, from source: ConfinedDirectory, to destination: ConfinedDirectory,
        as newName: String, relative: String, depth: Int
    ) throws {
        try check(relative)
        if let d = deadline, Self.monotonicNow() > d { throw Refusal.deadline(relative: relative) }
        stats.newestMTime = max(stats.newestMTime, Int64(st.st_mtim.tv_sec))
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let fd = try source.open(name, O_RDONLY | O_NOFOLLOW | O_NOCTTY)
            try copyFile(fd, st, to: destination, as: newName, relative: relative)
        case S_IFDIR:
            guard depth < maxDepth else { throw Refusal.tooDeep(relative: relative, limit: maxDepth) }
            let dir = try source.openDirectory(name)
            var cst = try dir.status()
            guard cst.st_ino == st.st_ino, cst.st_dev == st.st_dev else {
                throw OSError("openat", source.display(name), errno: ESTALE, hint: "the tree changed during the copy")
            }
            cst.st_mtim = st.st_mtim
            try copyDirectory(dir, cst, to: destination, as: newName, relative: relative, depth: depth)
        case S_IFLNK:
            let target = try source.readLink(name)
            guard try symlinkPolicy(relative, target) else { return }
            try destination.makeSymlink(newName, target: target)
            if let o = owner { _ = fchownat(destination.fd.raw, newName, o.uid, o.gid, AT_SYMLINK_NOFOLLOW) }
            var times = [st.st_atim, st.st_mtim]
            _ = utimensat(destination.fd.raw, newName, &times, AT_SYMLINK_NOFOLLOW)
            stats.symlinks += 1
        default:
            stats.skipped.append(relative)
        }
    }

    private func copyDirectory(
        _ dir: ConfinedDirectory, _ st: stat, to destination: ConfinedDirectory, as newName: String,
        relative: String, depth: Int
    ) throws {
        try destination.makeDirectory(newName, mode: 0o700)
        let out = try destination.openDirectory(newName)
        for child in try dir.entries() {
            guard let cst = try dir.status(child) else { continue }
            try copyEntry(
                child, cst, from: dir, to: out, as: child, relative: relative + "/" + child, depth: depth + 1)
        }
        try finish(out.fd, st, shown: out.path)
        stats.directories += 1
    }

    private func copyFile(
        _ input: OwnedFD, _ st: stat, to destination: ConfinedDirectory, as newName: String,
        relative: String
    ) throws {
        var fst = stat()
        guard fstat(input.raw, &fst) == 0, (fst.st_mode & S_IFMT) == S_IFREG else {
            throw OSError("fstat", relative, errno: EINVAL, hint: "not a regular file")
        }
        let output = try destination.open(newName, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        _ = posix_fadvise(input.raw, 0, 0, POSIX_FADV_SEQUENTIAL)
        try copyData(from: input, to: output, size: Int64(fst.st_size), relative: relative)
        var kept = fst
        kept.st_mtim = st.st_mtim
        try finish(output, kept, shown: destination.display(newName))
        stats.files += 1
    }

    /// Owner, then mode (chown clears set-id bits; we drop them anyway), then times.
    private func finish(_ fd: OwnedFD, _ st: stat, shown: String) throws {
        if let o = owner, fchown(fd.raw, o.uid, o.gid) != 0 { throw OSError("fchown", shown) }
        if fchmod(fd.raw, st.st_mode & 0o777) != 0 { throw OSError("fchmod", shown) }
        var times = [st.st_atim, st.st_mtim]
        if futimens(fd.raw, &times) != 0 { throw OSError("futimens", shown) }
    }

    /// Copy the data extents of `input` (holes are skipped and recreated by the final truncate).
    private func copyData(from input: OwnedFD, to output: OwnedFD, size: Int64, relative: String) throws {
        var offset: Int64 = 0
        var end: Int64 = 0  // where the written data ends
        while offset < size {
            let data = airlock_seek_data(input.raw, offset)
            if data < 0 {
                if airlock_errno() == ENXIO { break }
                try copyRange(input, output, from: offset, count: size - offset, relative: relative)
                end = size
                break
            }
            var hole = airlock_seek_hole(input.raw, data)
            if hole < 0 || hole > size { hole = size }
            try copyRange(input, output, from: data, count: hole - data, relative: relative)
            offset = hole
            end = hole
        }
        // A trailing hole: extend to the size (a file that ends in data needs no truncate).
        if end < size, ftruncate(output.raw, off_t(size)) != 0 { throw OSError("ftruncate", relative) }
    }

    private func copyRange(_ input: OwnedFD, _ output: OwnedFD, from start: Int64, count: Int64, relative: String)
        throws
    {
        guard count > 0 else { return }
        if stats.bytes + UInt64(count) > byteLimit { throw Refusal.tooLarge(relative: relative, limit: byteLimit) }
        var done: Int64 = 0
        var kernelCopy = true
        while done < count {
            if let d = deadline, Self.monotonicNow() > d { throw Refusal.deadline(relative: relative) }
            let chunk = min(count - done, 64 << 20)
            var n: Int64 = -1
            if kernelCopy {
                n = retryingEINTR {
                    airlock_copy_range(input.raw, start + done, output.raw, start + done, UInt64(chunk))
                }
                if n < 0 {
                    let e = airlock_errno()
                    guard e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP || e == EPERM else {
                        throw OSError("copy_file_range", relative, errno: e)
                    }
                    kernelCopy = false
                }
            }
            if !kernelCopy { n = try copyByReading(input, output, at: start + done, count: chunk, relative: relative) }
            if n == 0 { break }  // the file shrank under us: keep what there was
            done += n
            stats.bytes += UInt64(n)
        }
    }

    private func copyByReading(_ input: OwnedFD, _ output: OwnedFD, at offset: Int64, count: Int64, relative: String)
        throws -> Int64
    {
        var buf = [UInt8](repeating: 0, count: Int(min(count, 1 << 20)))
        let n = buf.withUnsafeMutableBytes { b in
            retryingEINTR { pread(input.raw, b.baseAddress!, b.count, off_t(offset)) }
        }
        if n < 0 { throw OSError("pread", relative) }
        var written = 0
        while written < n {
            let w = buf.withUnsafeBytes { b in
                retryingEINTR {
                    pwrite(output.raw, b.baseAddress! + written, n - written, off_t(offset) + off_t(written))
                }
            }
            if w < 0 { throw OSError("pwrite", relative) }
            written += w
        }
        return Int64(n)
    }

    /// Seconds on `CLOCK_MONOTONIC` (what `deadline` is measured against).
    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

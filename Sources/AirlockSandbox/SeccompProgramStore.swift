import AirlockCore
import AirlockOS
import Crypto
import Foundation

/// Compiled seccomp programs kept on disk between runs, so a one-shot `airlock exec` or
/// `airlock run` loads the profile's filter instead of compiling it with libseccomp each time.
///
/// One file per program, `<directory>/<key>.bpf`, created 0600 in the state directory (which no
/// sandbox sees), replaced atomically. The key is the SHA-256 of what decides the compiled
/// bytes: this format, `SeccompCompiler.revision`, the libseccomp version, the machine
/// architecture and the policy's canonical text (the profile's seccomp section, normalised).
///
/// File layout (all integers little-endian):
///
///     "AIRBPF01"   8 bytes, the magic and format version
///     key         32 bytes, the key the file was written for
///     digest      32 bytes, SHA-256 of the program
///     length       4 bytes, the program's size in bytes (a multiple of 8)
///     program     `length` bytes of `struct sock_filter`
///
/// A file is loaded only when it is a regular file owned by this user, with no group or other
/// permission bits, and magic, key, length and digest all match. Anything else — truncated,
/// corrupt, written for another key, another libseccomp or another format, replaced by a
/// symbolic link — is ignored, and the freshly compiled program is written over it.
public struct SeccompProgramStore: Sendable {
    public let directory: String

    static let magic = Array("AIRBPF01".utf8)
    static let headerSize = 8 + 32 + 32 + 4
    /// The kernel's BPF_MAXINSNS (4096 instructions of 8 bytes).
    static let maxProgramSize = 4096 * 8

    public init(directory: String) { self.directory = directory }

    /// The cache key for `policy` on this host.
    public static func key(for policy: SeccompPolicy) -> [UInt8] {
        var text = "airlock seccomp program cache, format 1\n"
        text += "compiler \(SeccompCompiler.revision)\n"
        text += "libseccomp \(LibseccompSyscalls.libraryVersion)\n"
        text += "arch \(machine)\n"
        text += policy.canonicalText
        return Array(SHA256.hash(data: Array(text.utf8)))
    }

    static let machine: String = {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: &u.machine) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }()

    func path(for key: [UInt8]) -> String { directory + "/" + key.hexString + ".bpf" }

    /// The program stored under `key`, or nil when there is none or the file fails any check.
    public func load(key: [UInt8]) -> SeccompProgram? {
        let fd = open(path(for: key), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_uid == geteuid(),
            st.st_mode & 0o077 == 0, st.st_size >= Self.headerSize, st.st_size <= Self.headerSize + Self.maxProgramSize
        else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + got, $0.count - got, off_t(got)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            got += n
        }
        return Self.decode(bytes, key: key)
    }

    /// The program in `file` if it is a valid entry for `key`.
    static func decode(_ file: [UInt8], key: [UInt8]) -> SeccompProgram? {
        guard file.count >= headerSize, Array(file[0..<8]) == magic, Array(file[8..<40]) == key else { return nil }
        let length = file[72..<76].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, length % 8 == 0, length <= maxProgramSize, file.count == headerSize + length else {
            return nil
        }
        let program = Array(file[headerSize...])
        guard Array(SHA256.hash(data: program)) == Array(file[40..<72]) else { return nil }
        return SeccompProgram(bytes: program)
    }

    /// The file contents for `program` under `key`.
    static func encode(_ program: SeccompProgram, key: [UInt8]) -> [UInt8] {
        let n = UInt32(program.bytes.count)
        let length = [UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 24)]
        return magic + key + Array(SHA256.hash(data: program.bytes)) + length + program.bytes
    }

    /// Write `program` under `key` (0600, atomically, replacing what was there). The directory
    /// must exist (`StateDirectory.cacheDirectory` makes it).
    public func store(_ program: SeccompProgram, key: [UInt8]) throws {
        guard !program.bytes.isEmpty, program.bytes.count <= Self.maxProgramSize else { return }
        try PrivateFile.replace(path(for: key), contents: Self.encode(program, key: key))
    }
}

extension [UInt8] {
    fileprivate var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

import Glibc
import Testing

@testable import AirlockOS

/// Facts about the test host, and a small driver for the real `airlock-helper`.
enum TestHost {
    static let isRoot = geteuid() == 0

    /// `$AIRLOCK_HELPER`, else the first directory above this test binary that holds an
    /// executable `airlock-helper` (SwiftPM puts it next to the test bundle: `.build/debug`).
    static let helperPath: String? = {
        if let env = getenv("AIRLOCK_HELPER"), case let p = String(cString: env), !p.isEmpty {
            return access(p, X_OK) == 0 ? p : nil
        }
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        var dir = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = dir.lastIndex(of: "/"), slash != dir.startIndex {
            dir = String(dir[..<slash])
            let candidate = dir + "/airlock-helper"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }()

    /// `user.max_user_namespaces` > 0 (the helper always creates a user namespace).
    static let userNamespacesAvailable: Bool = {
        guard let text = try? FileIO.read("/proc/sys/user/max_user_namespaces"),
            let n = Int(text.filter { !$0.isWhitespace })
        else { return false }
        return n > 0
    }()

    static var canRunHelper: Bool { helperPath != nil && userNamespacesAvailable }

    /// Setup ids inside the sandbox: 0 as root (a full range is mapped), else the one mapped id.
    static var setupID: UInt32 { isRoot ? 0 : 1000 }

    /// The small root filesystem every helper-driven test uses: the host's /usr, read-only.
    static var baseMounts: [HelperConfig.MountOp] {
        [
            .roBind(source: "/usr", destination: "/usr"),
            .symlink(target: "usr/bin", path: "/bin"),
            .symlink(target: "usr/lib", path: "/lib"),
            .symlink(target: "usr/lib64", path: "/lib64"),
            .tmpfs(path: "/tmp", size: 16 << 20, mode: 0o1777, uid: setupID, gid: setupID),
            .proc,
            .dev(shmSize: 1 << 20),
        ]
    }

    /// A launch config for `arguments`: rootless (own uid mapped to 1000) unless running as root.
    static func config(_ arguments: [String], extraMounts: [HelperConfig.MountOp] = []) -> HelperConfig {
        HelperConfig(
            uidMap: isRoot ? "0 1000000 65536\n" : "1000 \(geteuid()) 1\n",
            gidMap: isRoot ? "0 1000000 65536\n" : "1000 \(getegid()) 1\n",
            setupUID: setupID, setupGID: setupID, jobUID: 1000, jobGID: 1000,
            mounts: baseMounts + extraMounts,
            arguments: arguments,
            environment: ["PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/tmp"])
    }

    struct Run {
        /// The job's stdout and stderr, interleaved.
        var output: String
        var outcome: HelperProcess.Outcome
        var timedOut: Bool
    }

    /// Spawn the helper for `config`, collect the job's output (stdout+stderr through one pipe)
    /// and its outcome. The sandbox is killed after `timeoutMS`.
    static func run(_ config: HelperConfig, program: SeccompProgram?, timeoutMS: Int32 = 30_000) throws -> Run {
        guard let helperPath else { throw OSError("locate", "airlock-helper", errno: ENOENT) }
        let out = try OwnedFD.pipe()
        let devNull = try OwnedFD.open("/dev/null", O_RDONLY)
        let helper = try HelperProcess.spawn(
            helperPath: helperPath, config: config, program: program,
            stdio: (devNull.raw, out.write.raw, out.write.raw))
        // Only the sandbox may hold the write end now, so EOF means "every writer is gone".
        out.write.close()
        devNull.close()

        var bytes: [UInt8] = []
        var timedOut = false
        var remaining = timeoutMS
        while true {
            var pfd = pollfd(fd: out.read.raw, events: Int16(POLLIN), revents: 0)
            var t0 = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t0)
            let r = poll(&pfd, 1, remaining)
            var t1 = timespec()
            clock_gettime(CLOCK_MONOTONIC, &t1)
            remaining -= Int32((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1_000_000)
            if r < 0 && errno == EINTR { continue }
            if r == 0 || remaining <= 0 {
                timedOut = true
                helper.killSandbox()
                break
            }
            if r < 0 { break }
            let chunk = try out.read.read()
            if chunk.isEmpty { break }
            bytes += chunk
        }
        let outcome = helper.waitForExit()
        return Run(output: String(decoding: bytes, as: UTF8.self), outcome: outcome, timedOut: timedOut)
    }
}

extension Trait where Self == ConditionTrait {
    /// Gates tests that start real sandboxes through `airlock-helper`.
    static var needsHelper: Self {
        .enabled(
            if: TestHost.canRunHelper,
            "needs a built airlock-helper (swift build, or AIRLOCK_HELPER) and user namespaces (user.max_user_namespaces > 0)"
        )
    }
}

/// A fresh temporary directory (mkdtemp), removed with `rm -r`-like recursion by `remove()`.
struct TempDir {
    let path: String

    init() throws {
        var template = Array("/tmp/airlock-ostests-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw OSError("mkdtemp", "/tmp") }
        path = String(cString: p)
    }

    func remove() { Self.removeTree(path) }

    private static func removeTree(_ path: String) {
        if let d = opendir(path) {
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                let child = path + "/" + name
                var st = stat()
                if lstat(child, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                    removeTree(child)
                } else {
                    unlink(child)
                }
            }
            closedir(d)
        }
        rmdir(path)
    }
}

/// Decoded classic-BPF instructions of a compiled program (`struct sock_filter`, little-endian).
struct BPFInstruction: Equatable {
    var code: UInt16
    var jt: UInt8
    var jf: UInt8
    var k: UInt32

    static func decode(_ program: SeccompProgram) -> [BPFInstruction] {
        stride(from: 0, to: program.bytes.count - 7, by: 8).map { o in
            let b = program.bytes
            return BPFInstruction(
                code: UInt16(b[o]) | UInt16(b[o + 1]) << 8, jt: b[o + 2], jf: b[o + 3],
                k: UInt32(b[o + 4]) | UInt32(b[o + 5]) << 8 | UInt32(b[o + 6]) << 16 | UInt32(b[o + 7]) << 24)
        }
    }
}

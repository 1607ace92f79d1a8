import Glibc
import Testing

@testable import AirlockOS

@Suite("HelperConfig")
struct HelperConfigTests {
    static func sample(
        arguments: [String] = ["/bin/sh", "-c", "echo hi"], environment: [String] = ["PATH=/usr/bin", "A=1"]
    ) -> HelperConfig {
        var c = HelperConfig(
            uidMap: "0 100000 65536\n", gidMap: "0 200000 65536\n", setupUID: 0, setupGID: 0,
            jobUID: 1000, jobGID: 1001, shareNetwork: true, rootSize: 32 << 20, hostname: "box",
            mounts: [
                .roBind(source: "/usr", destination: "/usr"),
                .rwBind(source: "/srv/work", destination: "/workspace"),
                .tmpfs(path: "/tmp", size: 1 << 20, mode: 0o1777, uid: 0, gid: 0),
                .directory(path: "/home/u", mode: 0o700, uid: 1000, gid: 1001),
                .file(path: "/etc/hosts", mode: 0o644, contents: "127.0.0.1 localhost\n"),
                .symlink(target: "usr/bin", path: "/bin"),
                .proc,
                .dev(shmSize: 4096),
            ],
            readOnlyRoot: true, cgroupProcs: ["/sys/fs/cgroup/airlock/j/cgroup.procs"],
            rlimits: [(resource: 7, soft: 64, hard: 128)], workingDirectory: "/workspace", umask: 0o027,
            arguments: arguments, environment: environment)
        c.cgroupSelf = ["/sys/fs/cgroup/memory/airlock/j/tasks"]
        return c
    }

    /// Split the wire form at NULs; fails the test if the last token is not NUL-terminated.
    static func tokens(_ bytes: [UInt8]) -> [String] {
        #expect(bytes.last == 0, "the last token must be NUL-terminated")
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    @Test("the wire form is NUL-terminated tokens in the documented order")
    func encodedOrder() {
        let bytes = Self.sample().encoded()
        let t = Self.tokens(bytes)
        // Every token is terminated: as many NULs as tokens.
        #expect(bytes.filter { $0 == 0 }.count == t.count)
        #expect(
            t == [
                "uid_map", "0 100000 65536\n",
                "gid_map", "0 200000 65536\n",
                "setup_ids", "0", "0",
                "job_ids", "1000", "1001",
                "share_net",
                "root_size", String(32 << 20),
                "hostname", "box",
                "ro_bind", "/usr", "/usr",
                "rw_bind", "/srv/work", "/workspace",
                "tmpfs", "/tmp", String(1 << 20), String(0o1777), "0", "0",
                "dir", "/home/u", String(0o700), "1000", "1001",
                "file", "/etc/hosts", String(0o644), "127.0.0.1 localhost\n",
                "symlink", "usr/bin", "/bin",
                "proc",
                "dev", "4096",
                "readonly_root",
                "cgroup", "/sys/fs/cgroup/airlock/j/cgroup.procs",
                "cgroup_self", "/sys/fs/cgroup/memory/airlock/j/tasks",
                "rlimit", "7", "64", "128",
                "cwd", "/workspace",
                "umask", String(0o027),
                "env", "PATH=/usr/bin", "env", "A=1",
                "arg", "/bin/sh", "arg", "-c", "arg", "echo hi",
            ])
    }

    @Test("uid_map comes first; env precedes arg; args are last and in order")
    func orderInvariants() {
        let t = Self.tokens(Self.sample(arguments: ["z", "a", "m"], environment: ["E1=1", "E2=2"]).encoded())
        #expect(t.first == "uid_map")
        let lastEnv = t.lastIndex(of: "env")!
        let firstArg = t.firstIndex(of: "arg")!
        #expect(lastEnv < firstArg)
        #expect(Array(t[firstArg...]) == ["arg", "z", "arg", "a", "arg", "m"])
    }

    @Test("optional records are omitted when off; numbers are decimal")
    func optionalRecords() {
        let c = HelperConfig(
            uidMap: "0 1 1\n", gidMap: "0 1 1\n", setupUID: 0, setupGID: 0, jobUID: 0, jobGID: 0,
            readOnlyRoot: false, umask: 0o022, arguments: ["x"], environment: [])
        let t = Self.tokens(c.encoded())
        #expect(!t.contains("share_net"))
        #expect(!t.contains("readonly_root"))
        #expect(!t.contains("env"))
        #expect(!t.contains("cgroup"))
        // 0o022 goes on the wire as "18": the helper's strtoul(base 0) reads it as decimal.
        let umaskAt = t.firstIndex(of: "umask")!
        #expect(t[umaskAt + 1] == "18")
        #expect(t.suffix(2) == ["arg", "x"])
    }

    @Test("equality and hashing follow the wire form")
    func equality() {
        var a = Self.sample()
        let b = Self.sample()
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        a.cgroupSelf = []
        #expect(a != b)
    }

    @Test("validate accepts a normal config")
    func validateAccepts() throws {
        try Self.sample().validate()
    }

    @Test("validate rejects a NUL byte in an argument, with a hint")
    func validateRejectsNULArgument() throws {
        let c = Self.sample(arguments: ["/bin/echo", "a\u{0}b"])
        let error = try #require(throws: OSError.self) { try c.validate() }
        #expect(error.errno == EINVAL)
        #expect(error.hint?.contains("NUL") == true)
        #expect(error.object.contains("a\\0b"))
    }

    @Test("validate rejects a NUL byte in the environment, uid map, hostname and cwd")
    func validateRejectsNULElsewhere() throws {
        var configs: [HelperConfig] = []
        configs.append(Self.sample(environment: ["A=\u{0}"]))
        var c = Self.sample()
        c.uidMap = "0 0\u{0} 1"
        configs.append(c)
        c = Self.sample()
        c.hostname = "h\u{0}"
        configs.append(c)
        c = Self.sample()
        c.workingDirectory = "/\u{0}"
        configs.append(c)
        for c in configs {
            #expect(throws: OSError.self) { try c.validate() }
        }
    }

    @Test("validate rejects an empty command, with a hint")
    func validateRejectsEmptyCommand() throws {
        let c = Self.sample(arguments: [])
        let error = try #require(throws: OSError.self) { try c.validate() }
        #expect(error.errno == EINVAL)
        #expect(error.hint == "no command given")
    }

    /// A NUL in a mount token shifts every later token: here a `.file`'s contents smuggle in an
    /// extra `rw_bind / /host` record. `validate()` only checks maps, hostname, cwd, argv and env.
    @Test("validate rejects a NUL byte in mount paths and file contents")
    func validateRejectsNULInMounts() throws {
        var c = Self.sample()
        c.mounts = [.file(path: "/etc/motd", mode: 0o644, contents: "hi\u{0}rw_bind\u{0}/\u{0}/host")]
        let t = Self.tokens(c.encoded())
        // The smuggled record really is on the wire as an op of its own.
        #expect(t.contains("rw_bind"))
        #expect(throws: OSError.self) { try c.validate() }
        var d = Self.sample()
        d.mounts = [.roBind(source: "/usr\u{0}", destination: "/usr")]
        #expect(throws: OSError.self) { try d.validate() }
    }
}

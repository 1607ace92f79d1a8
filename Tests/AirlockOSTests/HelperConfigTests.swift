import CAirlockShims
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

    /// Every op of the protocol header, with its argument count and the name the expectations
    /// below use for it (the names the wire carried before it had op codes).
    static let ops: [(op: airlock_op, argc: Int, name: String)] = [
        (AIRLOCK_OP_UID_MAP, 1, "uid_map"), (AIRLOCK_OP_GID_MAP, 1, "gid_map"),
        (AIRLOCK_OP_SETUP_IDS, 2, "setup_ids"), (AIRLOCK_OP_JOB_IDS, 2, "job_ids"),
        (AIRLOCK_OP_SHARE_NET, 0, "share_net"), (AIRLOCK_OP_ROOT_SIZE, 1, "root_size"),
        (AIRLOCK_OP_HOSTNAME, 1, "hostname"), (AIRLOCK_OP_RO_BIND, 2, "ro_bind"),
        (AIRLOCK_OP_RW_BIND, 2, "rw_bind"), (AIRLOCK_OP_TMPFS, 5, "tmpfs"), (AIRLOCK_OP_DIR, 4, "dir"),
        (AIRLOCK_OP_FILE, 3, "file"), (AIRLOCK_OP_OWNED_FILE, 5, "owned_file"),
        (AIRLOCK_OP_SYMLINK, 2, "symlink"), (AIRLOCK_OP_PROC, 0, "proc"), (AIRLOCK_OP_DEV, 1, "dev"),
        (AIRLOCK_OP_READONLY_ROOT, 0, "readonly_root"), (AIRLOCK_OP_CGROUP, 1, "cgroup"),
        (AIRLOCK_OP_CGROUP_SELF, 1, "cgroup_self"), (AIRLOCK_OP_RLIMIT, 3, "rlimit"), (AIRLOCK_OP_CWD, 1, "cwd"),
        (AIRLOCK_OP_UMASK, 1, "umask"), (AIRLOCK_OP_ENV, 1, "env"), (AIRLOCK_OP_ARG, 1, "arg"),
        (AIRLOCK_OP_RECORD, 1, "record"), (AIRLOCK_OP_RECORD_ARGS, 2, "record_args"),
    ]

    /// Split the wire form at NULs; fails the test if the last token is not NUL-terminated.
    static func rawTokens(_ bytes: [UInt8]) -> [String] {
        #expect(bytes.last == 0, "the last token must be NUL-terminated")
        var parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        if parts.last == "" { parts.removeLast() }
        return parts
    }

    /// Decode the wire form as the helper does: the version first, then records of an op code
    /// (shown by its name) and as many arguments as the code says. Fails the test on anything
    /// else; returns the records' tokens without the version.
    static func tokens(_ bytes: [UInt8]) -> [String] {
        let parts = rawTokens(bytes)
        #expect(parts.first == String(AIRLOCK_HELPER_CONFIG_VERSION), "the config version comes first")
        let names = Dictionary(uniqueKeysWithValues: ops.map { ($0.op.rawValue, $0.name) })
        var out: [String] = []
        var i = 1
        while i < parts.count {
            guard let code = UInt32(parts[i]), let name = names[code] else {
                Issue.record("token \(i) is not an op code: \(parts[i].debugDescription)")
                return out + parts[i...]
            }
            let argc = HelperConfig.argumentCount(airlock_op(rawValue: code))
            #expect(i + argc < parts.count, "\(name): truncated record")
            out.append(name)
            out += parts[(i + 1)..<min(i + 1 + argc, parts.count)]
            i += 1 + argc
        }
        return out
    }

    @Test("the wire form is NUL-terminated tokens in the documented order")
    func encodedOrder() {
        let bytes = Self.sample().encoded()
        let t = Self.tokens(bytes)
        // Every token is terminated: as many NULs as tokens (the records', and the version).
        #expect(bytes.filter { $0 == 0 }.count == t.count + 1)
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
    /// extra `rw_bind / /host` record (its op code, then its two arguments).
    @Test("validate rejects a NUL byte in mount paths and file contents")
    func validateRejectsNULInMounts() throws {
        var c = Self.sample()
        let rwBind = AIRLOCK_OP_RW_BIND.rawValue
        c.mounts = [.file(path: "/etc/motd", mode: 0o644, contents: "hi\u{0}\(rwBind)\u{0}/\u{0}/host")]
        let t = Self.tokens(c.encoded())
        // The smuggled record really is on the wire as an op of its own.
        #expect(t.contains("rw_bind"))
        #expect(throws: OSError.self) { try c.validate() }
        var d = Self.sample()
        d.mounts = [.roBind(source: "/usr\u{0}", destination: "/usr")]
        #expect(throws: OSError.self) { try d.validate() }
    }

    @Test("the config version comes first, then op codes from the protocol header, not names")
    func versionAndCodes() {
        let raw = Self.rawTokens(Self.sample().encoded())
        #expect(raw[0] == String(AIRLOCK_HELPER_CONFIG_VERSION))
        #expect(HelperConfig.configVersion == Int(AIRLOCK_HELPER_CONFIG_VERSION))
        #expect(raw[1] == String(AIRLOCK_OP_UID_MAP.rawValue))
        #expect(raw[3] == String(AIRLOCK_OP_GID_MAP.rawValue))
        for name in Self.ops.map(\.name) { #expect(!raw.contains(name), "op name \(name) on the wire") }
        let other = Self.rawTokens(Self.sample().encoded(version: 99))
        #expect(other[0] == "99")
        #expect(Array(other.dropFirst()) == Array(raw.dropFirst()))
    }

    @Test("every op code carries its argument count and is distinct")
    func opCodes() {
        #expect(Self.ops.count == 26)
        #expect(Set(Self.ops.map(\.op.rawValue)).count == Self.ops.count)
        for o in Self.ops {
            #expect(HelperConfig.argumentCount(o.op) == o.argc, "\(o.name)")
            #expect(o.op.rawValue >> UInt32(AIRLOCK_OP_ARGC_BITS) > 0, "\(o.name): code 0 is no op")
        }
    }

    @Test("every kind of record decodes with its argument count: owned files, recording, all mounts")
    func everyOpDecodes() {
        var c = Self.sample()
        c.mounts.append(.ownedFile(path: "/run/secrets/t", mode: 0o400, uid: 1000, gid: 1000, contents: "s"))
        c.recording = HelperRecording(
            outputPath: "/tmp/rec.txt", argumentCalls: [.init(number: 16, mask: 0b10), .init(number: 72, mask: 0b11)])
        let t = Self.tokens(c.encoded())
        let used = Set(t.filter { name in Self.ops.contains { $0.name == name } })
        #expect(used == Set(Self.ops.map(\.name)), "ops not written: \(Set(Self.ops.map(\.name)).subtracting(used))")
        #expect(
            Array(t.suffix(10)) == [
                "arg", "echo hi", "record", "/tmp/rec.txt", "record_args", "16", "2", "record_args", "72", "3",
            ])
        let owned = t.firstIndex(of: "owned_file")!
        #expect(Array(t[owned...].prefix(6)) == ["owned_file", "/run/secrets/t", "256", "1000", "1000", "s"])
    }
}

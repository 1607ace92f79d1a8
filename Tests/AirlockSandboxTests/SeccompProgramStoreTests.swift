import AirlockOS
import AirlockProfile
import Foundation
import Testing

@testable import AirlockSandbox

/// The on-disk BPF cache: a program compiled by one process is loaded by the next, and nothing
/// but an intact entry written for the same key is ever loaded.
@Suite("SeccompProgramStore")
struct SeccompProgramStoreTests {
    static let spec = SeccompSpec(
        defaultAction: .allow,
        rules: [
            SeccompRule(names: ["unshare"], action: .errno(1), args: []),
            SeccompRule(names: ["ptrace"], action: .errno(1), args: []),
        ])

    /// A fresh state directory, removed afterwards.
    static func withState(_ body: (StateDirectory) throws -> Void) throws {
        let dir = NSTemporaryDirectory() + "airlock-bpf-cache-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try body(StateDirectory(path: dir))
    }

    static func entryPath(_ state: StateDirectory, _ spec: SeccompSpec = spec) throws -> String {
        let store = SeccompProgramStore(directory: state.path + "/cache/seccomp")
        return store.path(for: SeccompProgramStore.key(for: try spec.policy()))
    }

    /// A well-formed program that the compiler would never produce for `spec` (allow everything).
    static let planted = SeccompProgram(bytes: [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f])

    @Test("the first cache compiles and writes a 0600 entry; a second one (another process) loads it")
    func roundTrip() throws {
        try Self.withState { state in
            let first = try SeccompProgramCache(state: state).program(for: Self.spec, profileName: "t")
            let path = try Self.entryPath(state)
            var st = stat()
            #expect(lstat(path, &st) == 0)
            #expect(st.st_mode & 0o777 == 0o600)
            #expect(st.st_uid == geteuid())
            let store = SeccompProgramStore(directory: state.path + "/cache/seccomp")
            #expect(store.load(key: SeccompProgramStore.key(for: try Self.spec.policy())) == first)
            #expect(try SeccompProgramCache(state: state).program(for: Self.spec, profileName: "t") == first)
        }
    }

    @Test("a valid entry is used without compiling")
    func validEntryIsLoaded() throws {
        try Self.withState { state in
            let key = SeccompProgramStore.key(for: try Self.spec.policy())
            let dir = try #require(state.cacheDirectory("cache/seccomp"))
            try SeccompProgramStore(directory: dir).store(Self.planted, key: key)
            // The planted program is not what libseccomp makes for the spec: getting it back
            // shows the cache loaded the file instead of compiling.
            #expect(try SeccompProgramCache(state: state).program(for: Self.spec, profileName: "t") == Self.planted)
        }
    }

    /// Write `bytes` as the entry for `spec`, then check that a cache ignores it, compiles, and
    /// replaces it with a valid 0600 entry.
    func expectIgnoredAndRebuilt(_ bytes: [UInt8], mode: mode_t = 0o600, in state: StateDirectory) throws {
        let path = try Self.entryPath(state)
        _ = try #require(state.cacheDirectory("cache/seccomp"))
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode)
        try #require(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode)
        close(fd)
        let compiled = try SeccompCompiler.compile(try Self.spec.policy())
        let got = try SeccompProgramCache(state: state).program(for: Self.spec, profileName: "t")
        #expect(got == compiled)
        let key = SeccompProgramStore.key(for: try Self.spec.policy())
        #expect(SeccompProgramStore(directory: state.path + "/cache/seccomp").load(key: key) == compiled)
        var st = stat()
        #expect(lstat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
    }

    @Test("a corrupt entry (a flipped program byte, a bad digest, truncated, bad magic, bad length) is rebuilt")
    func corruptEntries() throws {
        try Self.withState { state in
            let key = SeccompProgramStore.key(for: try Self.spec.policy())
            let good = SeccompProgramStore.encode(Self.planted, key: key)
            var flipped = good
            flipped[flipped.count - 1] ^= 0x01
            var badDigest = good
            badDigest[50] ^= 0xff
            var badMagic = good
            badMagic[0] = UInt8(ascii: "X")
            var badLength = good
            badLength[72] = 16
            for bytes in [flipped, badDigest, Array(good.dropLast(3)), badMagic, badLength, [], Array(good.prefix(76))]
            {
                try expectIgnoredAndRebuilt(bytes, in: state)
            }
        }
    }

    @Test("a foreign entry (written for another key: another policy, libseccomp or format) is rebuilt")
    func foreignEntry() throws {
        try Self.withState { state in
            var other = Self.spec
            other.rules.append(SeccompRule(names: ["bpf"], action: .errno(1), args: []))
            let otherKey = SeccompProgramStore.key(for: try other.policy())
            try expectIgnoredAndRebuilt(SeccompProgramStore.encode(Self.planted, key: otherKey), in: state)
        }
    }

    @Test("an entry readable by others, or a symbolic link in its place, is not loaded")
    func permissionsAndLinks() throws {
        try Self.withState { state in
            let key = SeccompProgramStore.key(for: try Self.spec.policy())
            try expectIgnoredAndRebuilt(SeccompProgramStore.encode(Self.planted, key: key), mode: 0o644, in: state)

            let path = try Self.entryPath(state)
            let elsewhere = state.path + "/elsewhere.bpf"
            try Data(SeccompProgramStore.encode(Self.planted, key: key)).write(to: URL(fileURLWithPath: elsewhere))
            chmod(elsewhere, 0o600)
            unlink(path)
            #expect(symlink(elsewhere, path) == 0)
            let store = SeccompProgramStore(directory: state.path + "/cache/seccomp")
            #expect(store.load(key: key) == nil)
        }
    }

    @Test("the key depends on the policy, rule order included")
    func keyDependsOnPolicy() throws {
        let a = try Self.spec.policy()
        var b = a
        b.rules.reverse()
        var c = a
        c.defaultAction = .errno(38)
        #expect(SeccompProgramStore.key(for: a) == SeccompProgramStore.key(for: a))
        #expect(SeccompProgramStore.key(for: a) != SeccompProgramStore.key(for: b))
        #expect(SeccompProgramStore.key(for: a) != SeccompProgramStore.key(for: c))
        #expect(a.canonicalText.contains("libseccomp") == false)
    }

    @Test("without a state directory nothing is written, and a removed state directory is not recreated")
    func noStateNoFiles() throws {
        let gone = NSTemporaryDirectory() + "airlock-bpf-gone-\(UUID().uuidString.prefix(8))"
        let p = try SeccompProgramCache(state: StateDirectory(path: gone)).program(for: Self.spec, profileName: "t")
        #expect(!p.bytes.isEmpty)
        #expect(access(gone, F_OK) != 0)
        #expect(try SeccompProgramCache().program(for: Self.spec, profileName: "t") == p)
    }
}

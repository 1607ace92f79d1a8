import CAirlockShims
import Glibc
import Testing

@testable import AirlockOS

/// The launch config's version: a helper from another build refuses the config before it starts
/// anything, and the agent's error names the helper binary and the fix.
@Suite("helper protocol version")
struct HelperProtocolTests {
    static let version = Int32(HelperConfig.configVersion)

    /// An error record at `stage`, decoded.
    static func error(stage: Int32, errno: Int32, value: Int64 = 0, detail: String) -> HelperReport? {
        HelperReport(
            bytes: makeReport(kind: 1, stage: stage, errno: errno, value: value, detail: Array(detail.utf8))[...])
    }

    @Test("a current helper's refusal (config stage, EPROTO) is a version mismatch, restated with the path")
    func refusalRestated() throws {
        let r = try #require(
            Self.error(
                stage: 1, errno: EPROTO, value: Int64(Self.version + 1),
                detail: "launch config version '2', this helper reads version 3"))
        #expect(r.isConfigVersionMismatch)
        let m = r.versionMismatch(helperPath: "/opt/airlock/airlock-helper")
        #expect(m.stage == .config)
        #expect(m.errno == EPROTO)
        #expect(m.value == Int64(Self.version + 1))
        #expect(m.detail == "/opt/airlock/airlock-helper")
    }

    @Test("an unversioned helper's 'unknown op' for the version token is a mismatch too; other errors are not")
    func unversionedHelper() throws {
        let old = try #require(Self.error(stage: 1, errno: EINVAL, detail: "\(Self.version)"))
        #expect(old.isConfigVersionMismatch)
        let m = old.versionMismatch(helperPath: "/h")
        #expect(m.errno == EPROTO)
        #expect(m.value == 1)
        for (stage, errno, detail) in [
            (Int32(1), EINVAL, "no command"), (1, E2BIG, "too many mounts"), (13, EPROTO, "/x"),
            (1, ENOENT, "\(Self.version)"),
        ] {
            let r = try #require(Self.error(stage: stage, errno: errno, detail: detail))
            #expect(!r.isConfigVersionMismatch, "\(stage) \(errno) \(detail)")
        }
    }

    @Test("the hint names the helper binary and says to rebuild it with make helper")
    func hint() throws {
        let hint = try #require(HelperStage.config.hint(errno: EPROTO, detail: "/opt/airlock/airlock-helper"))
        #expect(hint.contains("'/opt/airlock/airlock-helper'"))
        #expect(hint.contains("`make helper`"))
        #expect(hint.contains("AIRLOCK_HELPER"))
        #expect(hint.contains("(\(Self.version))"))
        #expect(HelperStage.config.hint(errno: EINVAL, detail: "x") == nil)
    }

    /// Host mounts mentioning Airlock's paths (a sandbox's own mounts live in its namespace).
    static func airlockMounts() throws -> [Substring] {
        try FileIO.read("/proc/self/mountinfo").split(separator: "\n").filter { $0.contains("airlock") }
    }

    /// Spawn the real helper with `bytes` as its config; the job would create `marker` on a
    /// read-write bind, so its absence afterwards shows nothing ran.
    static func refused(_ bytes: (HelperConfig) -> [UInt8]) throws {
        let helperPath = try #require(TestHost.helperPath)
        let dir = try TempDir()
        defer { dir.remove() }
        let mountsBefore = try airlockMounts()
        let config = TestHost.config(
            ["/bin/sh", "-c", "touch /mnt/out/marker"],
            extraMounts: [.rwBind(source: dir.path, destination: "/mnt/out")])
        try config.validate()
        let devNull = try OwnedFD.open("/dev/null", O_RDWR)
        let helper = try HelperProcess.spawn(
            helperPath: helperPath, encodedConfig: bytes(config), program: nil,
            stdio: (devNull.raw, devNull.raw, devNull.raw))
        let outcome = helper.waitForExit()

        let err = try #require(outcome.setupError)
        #expect(err.stage == .config)
        #expect(err.errno == EPROTO)
        #expect(err.detail == helperPath, "the error names the helper binary")
        #expect(err.value == Int64(version), "the helper says which version it reads")
        #expect(err.isConfigVersionMismatch)
        #expect(err.stage?.hint(errno: err.errno, detail: err.detail)?.contains("make helper") == true)
        #expect(outcome.exitCode == 125)
        // Refused before clone: no sandbox init was started or reaped.
        #expect(outcome.initPID == nil)
        #expect(!outcome.jobExited)
        // Nothing is left: the helper is reaped, the job never ran, no mount appeared.
        #expect(kill(helper.pid, 0) == -1 && errno == ESRCH)
        #expect(access(dir.path + "/marker", F_OK) != 0)
        #expect(try airlockMounts() == mountsBefore)
    }

    @Test("the helper refuses a config of another version before it starts anything", .needsHelper)
    func refusesOtherVersion() throws {
        try Self.refused { $0.encoded(version: HelperConfig.configVersion + 1) }
        try Self.refused { $0.encoded(version: 0) }
    }

    @Test("the helper refuses the unversioned format of op names (version 1)", .needsHelper)
    func refusesUnversioned() throws {
        try Self.refused { config in
            // The old wire form: op names as tokens, no version.
            var out: [UInt8] = []
            for t in ["uid_map", config.uidMap, "gid_map", config.gidMap, "arg", "/bin/true"] {
                out += Array(t.utf8) + [0]
            }
            return out
        }
    }
}

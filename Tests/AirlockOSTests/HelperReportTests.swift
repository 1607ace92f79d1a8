import CAirlockShims
import Glibc
import Testing

@testable import AirlockOS

/// Build one `struct airlock_report` by hand, little-endian, 512 bytes.
func makeReport(
    magic: UInt32 = 0x4149_5231, kind: Int32, stage: Int32, errno: Int32, value: Int64, detail: [UInt8],
    size: Int = 512
) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: size)
    func put<T: FixedWidthInteger>(_ v: T, at off: Int) {
        withUnsafeBytes(of: v.littleEndian) { raw in
            for (i, byte) in raw.enumerated() where off + i < b.count { b[off + i] = byte }
        }
    }
    put(magic, at: 0)
    put(kind, at: 4)
    put(stage, at: 8)
    put(errno, at: 12)
    put(value, at: 16)
    for (i, byte) in detail.enumerated() where 24 + i < b.count { b[24 + i] = byte }
    return b
}

@Suite("HelperReport")
struct HelperReportTests {
    @Test("the record layout matches the C header")
    func layout() {
        #expect(airlock_report_size() == 512)
        #expect(AIRLOCK_REPORT_MAGIC == 0x4149_5231)
        #expect(MemoryLayout<airlock_report>.size == 512)
        #expect(MemoryLayout<airlock_report>.offset(of: \airlock_report.value) == 16)
        #expect(MemoryLayout<airlock_report>.offset(of: \airlock_report.detail) == 24)
    }

    @Test("a hand-built error record decodes field by field")
    func decodesError() throws {
        let bytes = makeReport(
            kind: 1, stage: 13, errno: 2, value: 0x0102_0304_0506_0708, detail: Array("/no/such/dir".utf8))
        let r = try #require(HelperReport(bytes: bytes[...]))
        #expect(r.kind == .error)
        #expect(r.stage == .bind)
        #expect(r.errno == 2)
        #expect(r.value == 0x0102_0304_0506_0708)
        #expect(r.detail == "/no/such/dir")
    }

    @Test("negative values and started/exited kinds decode; stage 0 is no stage")
    func decodesOtherKinds() throws {
        let started = try #require(
            HelperReport(bytes: makeReport(kind: 2, stage: 0, errno: 0, value: 4242, detail: [])[...]))
        #expect(started.kind == .started)
        #expect(started.stage == nil)
        #expect(started.value == 4242)
        #expect(started.detail == "")
        let exited = try #require(
            HelperReport(bytes: makeReport(kind: 3, stage: 0, errno: -1, value: -7, detail: [])[...]))
        #expect(exited.kind == .exited)
        #expect(exited.errno == -1)
        #expect(exited.value == -7)
    }

    @Test("a record in the middle of a buffer (slice with a non-zero start index) decodes")
    func decodesFromSlice() throws {
        let first = makeReport(kind: 2, stage: 0, errno: 0, value: 1, detail: [])
        let second = makeReport(kind: 1, stage: 29, errno: 13, value: 0, detail: Array("/work/run.sh".utf8))
        let buffer = first + second
        let r = try #require(HelperReport(bytes: buffer[512..<1024]))
        #expect(r.kind == .error)
        #expect(r.stage == .exec)
        #expect(r.errno == 13)
        #expect(r.detail == "/work/run.sh")
    }

    @Test("the detail stops at the first NUL, and may fill the whole field")
    func detailBounds() throws {
        let cut = try #require(
            HelperReport(
                bytes: makeReport(kind: 1, stage: 1, errno: 22, value: 0, detail: Array("ab\u{0}cd".utf8))[...]))
        #expect(cut.detail == "ab")
        let full = [UInt8](repeating: UInt8(ascii: "x"), count: 488)
        let r = try #require(HelperReport(bytes: makeReport(kind: 1, stage: 1, errno: 22, value: 0, detail: full)[...]))
        #expect(r.detail.count == 488)
    }

    @Test("a wrong magic, a wrong size or an unknown kind is not a record")
    func rejectsInvalid() {
        #expect(
            HelperReport(bytes: makeReport(magic: 0x3152_4941, kind: 1, stage: 1, errno: 1, value: 0, detail: [])[...])
                == nil)
        #expect(
            HelperReport(bytes: makeReport(magic: 0, kind: 1, stage: 1, errno: 1, value: 0, detail: [])[...]) == nil)
        #expect(
            HelperReport(bytes: makeReport(kind: 1, stage: 1, errno: 1, value: 0, detail: [], size: 511)[...]) == nil)
        #expect(
            HelperReport(bytes: makeReport(kind: 1, stage: 1, errno: 1, value: 0, detail: [], size: 513)[...]) == nil)
        #expect(HelperReport(bytes: [][...]) == nil)
        #expect(HelperReport(bytes: makeReport(kind: 0, stage: 1, errno: 1, value: 0, detail: [])[...]) == nil)
        #expect(HelperReport(bytes: makeReport(kind: 4, stage: 1, errno: 1, value: 0, detail: [])[...]) == nil)
    }
}

@Suite("HelperStage")
struct HelperStageTests {
    @Test("raw values are 1...N, contiguous, like the C enum")
    func contiguousRawValues() {
        let raws = HelperStage.allCases.map(\.rawValue)
        #expect(raws == Array(1...Int32(HelperStage.allCases.count)))
        #expect(HelperStage(rawValue: 0) == nil)
        #expect(HelperStage(rawValue: Int32(HelperStage.allCases.count) + 1) == nil)
    }

    @Test("each stage mirrors its C enumerator")
    func mirrorsCEnum() {
        let pairs: [(HelperStage, airlock_stage)] = [
            (.config, AIRLOCK_STAGE_CONFIG), (.clone, AIRLOCK_STAGE_CLONE),
            (.setgroups, AIRLOCK_STAGE_SETGROUPS), (.uidMap, AIRLOCK_STAGE_UID_MAP),
            (.gidMap, AIRLOCK_STAGE_GID_MAP), (.cgroup, AIRLOCK_STAGE_CGROUP), (.sync, AIRLOCK_STAGE_SYNC),
            (.setID, AIRLOCK_STAGE_SETID), (.cgroupNamespace, AIRLOCK_STAGE_CGROUP_NS),
            (.mountPrivate, AIRLOCK_STAGE_MOUNT_PRIVATE), (.rootTmpfs, AIRLOCK_STAGE_ROOT_TMPFS),
            (.pivotRoot, AIRLOCK_STAGE_PIVOT_ROOT), (.bind, AIRLOCK_STAGE_BIND), (.tmpfs, AIRLOCK_STAGE_TMPFS),
            (.proc, AIRLOCK_STAGE_PROC), (.dev, AIRLOCK_STAGE_DEV), (.file, AIRLOCK_STAGE_FILE),
            (.symlink, AIRLOCK_STAGE_SYMLINK), (.hostname, AIRLOCK_STAGE_HOSTNAME),
            (.loopback, AIRLOCK_STAGE_LOOPBACK), (.detachOldRoot, AIRLOCK_STAGE_DETACH_OLD_ROOT),
            (.remountRoot, AIRLOCK_STAGE_REMOUNT_ROOT), (.fork, AIRLOCK_STAGE_FORK),
            (.rlimit, AIRLOCK_STAGE_RLIMIT), (.chdir, AIRLOCK_STAGE_CHDIR), (.caps, AIRLOCK_STAGE_CAPS),
            (.fds, AIRLOCK_STAGE_FDS), (.seccomp, AIRLOCK_STAGE_SECCOMP), (.exec, AIRLOCK_STAGE_EXEC),
        ]
        #expect(pairs.count == HelperStage.allCases.count)
        for (swift, c) in pairs {
            #expect(UInt32(swift.rawValue) == c.rawValue, "\(swift)")
        }
    }

    @Test("every stage has a non-empty, distinct name")
    func names() {
        for s in HelperStage.allCases { #expect(!s.name.isEmpty, "\(s)") }
        #expect(Set(HelperStage.allCases.map(\.name)).count == HelperStage.allCases.count)
        #expect(HelperStage.exec.name == "exec")
        #expect(HelperStage.bind.name == "bind mount")
    }

    @Test("clone failing with EPERM, ENOSPC or EINVAL points at user.max_user_namespaces")
    func cloneHint() throws {
        for e in [EPERM, ENOSPC, EINVAL] {
            let hint = try #require(HelperStage.clone.hint(errno: e, detail: "clone"))
            #expect(hint.contains("user.max_user_namespaces"), "errno \(e)")
        }
        #expect(HelperStage.clone.hint(errno: ENOMEM, detail: "clone") == nil)
    }

    @Test("exec failing with ENOENT or EACCES names the path")
    func execHint() throws {
        let notFound = try #require(HelperStage.exec.hint(errno: ENOENT, detail: "/opt/tool/bin/run"))
        #expect(notFound.contains("/opt/tool/bin/run"))
        #expect(notFound.contains("not found"))
        let denied = try #require(HelperStage.exec.hint(errno: EACCES, detail: "/workspace/x.sh"))
        #expect(denied.contains("/workspace/x.sh"))
        #expect(HelperStage.exec.hint(errno: E2BIG, detail: "x") == nil)
    }

    @Test("other known hints: bind source, id maps, cgroup, seccomp; unknown pairs have none")
    func otherHints() {
        #expect(HelperStage.bind.hint(errno: ENOENT, detail: "/opt/sdk")?.contains("/opt/sdk") == true)
        #expect(HelperStage.uidMap.hint(errno: EPERM, detail: "") != nil)
        #expect(HelperStage.gidMap.hint(errno: EINVAL, detail: "") != nil)
        #expect(HelperStage.cgroup.hint(errno: EACCES, detail: "")?.contains("delegate") == true)
        #expect(HelperStage.seccomp.hint(errno: EINVAL, detail: "") != nil)
        #expect(HelperStage.proc.hint(errno: EPERM, detail: "/proc") == nil)
        #expect(HelperStage.bind.hint(errno: EPERM, detail: "/x") == nil)
    }
}

import Glibc
import Testing

@testable import AirlockOS

@Suite("OSError and Errno")
struct OSErrorTests {
    @Test("description names the call, object, strerror text, errno name and hint")
    func description() {
        let e = OSError("open", "/etc/airlock.yaml", errno: ENOENT, hint: "create it")
        #expect(e.description == "open(/etc/airlock.yaml) failed: No such file or directory (ENOENT); create it")
        #expect(e.reason == "No such file or directory")
        #expect(e.errnoName == "ENOENT")
    }

    @Test("without a hint there is no trailing clause; unknown errnos are numbered")
    func noHintUnknownErrno() {
        let e = OSError("mount", "/proc", errno: EPERM)
        #expect(e.description == "mount(/proc) failed: Operation not permitted (EPERM)")
        let odd = OSError("ioctl", "fd 3", errno: 200)
        #expect(odd.errnoName == "errno 200")
        #expect(odd.description.hasPrefix("ioctl(fd 3) failed: "))
        #expect(odd.description.hasSuffix("(errno 200)"))
    }

    @Test("the default errno is the calling thread's errno")
    func defaultErrno() {
        #expect(close(-1) == -1)
        let e = OSError("close", "-1")
        #expect(e.errno == EBADF)
    }

    @Test("Errno.name maps the common values")
    func names() {
        #expect(Errno.name(1) == "EPERM")
        #expect(Errno.name(ENOENT) == "ENOENT")
        #expect(Errno.name(EACCES) == "EACCES")
        #expect(Errno.name(ENOSYS) == "ENOSYS")
        #expect(Errno.name(0) == "errno 0")
        #expect(Errno.name(-1) == "errno -1")
        // Every name in the table is the Glibc constant of that value.
        let glibc: [String: Int32] = [
            "EPERM": EPERM, "ENOENT": ENOENT, "ESRCH": ESRCH, "EINTR": EINTR, "EIO": EIO, "EBADF": EBADF,
            "EAGAIN": EAGAIN, "ENOMEM": ENOMEM, "EACCES": EACCES, "EFAULT": EFAULT, "EBUSY": EBUSY,
            "EEXIST": EEXIST, "ENOTDIR": ENOTDIR, "EISDIR": EISDIR, "EINVAL": EINVAL, "EMFILE": EMFILE,
            "ENOSPC": ENOSPC, "EROFS": EROFS, "ENAMETOOLONG": ENAMETOOLONG, "ENOSYS": ENOSYS,
            "ENOTEMPTY": ENOTEMPTY, "EOVERFLOW": EOVERFLOW, "EOPNOTSUPP": EOPNOTSUPP,
            "EAFNOSUPPORT": EAFNOSUPPORT, "ENETUNREACH": ENETUNREACH, "ECONNREFUSED": ECONNREFUSED,
        ]
        for (name, value) in glibc { #expect(Errno.name(value) == name) }
    }

    @Test("retryingEINTR returns successes and non-EINTR failures at once")
    func retrying() {
        var calls = 0
        #expect(
            retryingEINTR {
                calls += 1; return 5
            } == 5)
        #expect(calls == 1)
        calls = 0
        #expect(
            retryingEINTR {
                calls += 1; return close(-1)
            } == -1)
        #expect(calls == 1)
    }
}

@Suite("FileIO and OwnedFD")
struct FileIOTests {
    @Test("FileIO writes an existing file and reads it back")
    func roundTrip() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path + "/value"
        _ = try OwnedFD.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        let text = "max 100000\nünïcode ✓\n"
        try FileIO.write(path, text)
        #expect(try FileIO.read(path) == text)
        #expect(FileIO.exists(path))
        #expect(FileIO.isWritable(path))
    }

    @Test("FileIO.write does not create files; errors name the path")
    func writeMissing() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.path + "/missing"
        let error = try #require(throws: OSError.self) { try FileIO.write(path, "x") }
        #expect(error.errno == ENOENT)
        #expect(error.object == path)
        #expect(!FileIO.exists(path))
        let readError = try #require(throws: OSError.self) { try FileIO.read(path) }
        #expect(readError.errno == ENOENT)
        #expect(readError.object == path)
    }

    @Test("makeDirectory tolerates an existing directory but not a missing parent")
    func makeDirectory() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try FileIO.makeDirectory(dir.path + "/d")
        try FileIO.makeDirectory(dir.path + "/d")
        #expect(FileIO.exists(dir.path + "/d"))
        let error = try #require(throws: OSError.self) { try FileIO.makeDirectory(dir.path + "/a/b") }
        #expect(error.call == "mkdir")
        #expect(error.errno == ENOENT)
    }

    @Test("filesystemType reads statfs magic numbers")
    func filesystemType() {
        #expect(FileIO.filesystemType("/proc") == 0x9fa0)  // PROC_SUPER_MAGIC
        #expect(FileIO.filesystemType("/no/such/path") == nil)
    }

    @Test("a memfd reads back its contents, past one read chunk")
    func memfd() throws {
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let fd = try OwnedFD.memfd("airlock-test", contents: bytes)
        #expect(fd.raw >= 0)
        #expect(try fd.readAll() == bytes)
        // Close-on-exec, like every descriptor AirlockOS makes.
        #expect(fcntl(fd.raw, F_GETFD) & FD_CLOEXEC != 0)
        let empty = try OwnedFD.memfd("airlock-empty", contents: [])
        #expect(try empty.readAll().isEmpty)
    }

    @Test("a pipe carries bytes and reads EOF once the write end is closed")
    func pipeEOF() throws {
        let p = try OwnedFD.pipe()
        #expect(fcntl(p.read.raw, F_GETFD) & FD_CLOEXEC != 0)
        #expect(fcntl(p.write.raw, F_GETFD) & FD_CLOEXEC != 0)
        try p.write.writeAll(Array("hello".utf8))
        p.write.close()
        #expect(p.write.raw == -1)
        #expect(try p.read.read() == Array("hello".utf8))
        #expect(try p.read.read().isEmpty)
        #expect(try p.read.readAll().isEmpty)
    }

    @Test("close is idempotent and release gives up ownership")
    func closeAndRelease() throws {
        let p = try OwnedFD.pipe()
        p.read.close()
        p.read.close()
        #expect(p.read.raw == -1)
        let raw = p.write.release()
        #expect(p.write.raw == -1)
        // Still open: we own it now.
        #expect(fcntl(raw, F_GETFD) >= 0)
        #expect(close(raw) == 0)
    }

    @Test("reading a closed descriptor throws an OSError")
    func readClosed() throws {
        let p = try OwnedFD.pipe()
        p.read.close()
        let error = try #require(throws: OSError.self) { try p.read.read() }
        #expect(error.errno == EBADF)
        #expect(error.call == "read")
    }
}

@Suite("CgroupHost")
struct CgroupHostTests {
    @Test("a plain directory as root is neither v2 nor v1: the error says what to mount")
    func plainDirectory() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        for uid: uid_t in [0, 1000] {
            let error = try #require(throws: OSError.self) { try CgroupHost.detect(root: dir.path, uid: uid) }
            // Not cgroup2, so it looks for the first v1 controller and finds no cgroup there.
            #expect(error.call == "statfs")
            #expect(error.object == dir.path + "/memory")
            #expect(error.errno == ENOENT)
            let hint = try #require(error.hint)
            #expect(hint.contains("mount cgroup v2 at \(dir.path)"))
            #expect(hint.contains("'memory'"))
        }
        // Nothing was created in the plain directory (no `airlock` directory as root).
        #expect(!FileIO.exists(dir.path + "/airlock"))
    }

    @Test("a directory named like a controller is still not a cgroup mount")
    func fakeControllers() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        for c in CgroupHost.v1Controllers { try FileIO.makeDirectory(dir.path + "/" + c) }
        let error = try #require(throws: OSError.self) { try CgroupHost.detect(root: dir.path, uid: 0) }
        #expect(error.object == dir.path + "/memory")
        #expect(error.hint?.contains("not mounted") == true)
        #expect(!FileIO.exists(dir.path + "/memory/airlock"))
    }

    @Test("the delegation error tells an ordinary user what root must run")
    func notDelegatedHint() {
        let e = CgroupHost.notDelegated(uid: 1234, paths: ["/sys/fs/cgroup/airlock-1234"], v2: true)
        #expect(e.errno == EACCES)
        #expect(
            e.hint?.contains("mkdir -p /sys/fs/cgroup/airlock-1234 && chown -R 1234 /sys/fs/cgroup/airlock-1234")
                == true)
        #expect(e.hint?.contains("Delegate=yes") == true)
        let v1 = CgroupHost.notDelegated(uid: 1234, paths: ["/a", "/b"], v2: false)
        #expect(v1.object == "/a, /b")
        #expect(v1.hint?.contains("Delegate=yes") == false)
    }
}

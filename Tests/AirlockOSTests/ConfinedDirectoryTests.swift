import AirlockOS
import Foundation
import Testing

/// A scratch tree for one test, removed afterwards.
private final class Scratch {
    let root: String
    init() {
        root = NSTemporaryDirectory() + "confined-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }
    deinit { _ = try? Process.run(URL(fileURLWithPath: "/bin/rm"), arguments: ["-rf", root]).waitUntilExit() }

    func dir(_ rel: String) -> String {
        let p = root + "/" + rel
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
    func file(_ rel: String, _ text: String = "x", mode: Int = 0o644) {
        let p = root + "/" + rel
        try? FileManager.default.createDirectory(
            atPath: (p as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
    }
    func link(_ rel: String, to target: String) {
        try? FileManager.default.createSymbolicLink(atPath: root + "/" + rel, withDestinationPath: target)
    }
    func read(_ rel: String) -> String? { try? String(contentsOfFile: root + "/" + rel, encoding: .utf8) }
    func lstatMode(_ rel: String) -> mode_t? {
        var st = stat()
        return lstat(root + "/" + rel, &st) == 0 ? st.st_mode : nil
    }
}

@Suite("confined file operations (any user)")
struct ConfinedDirectoryTests {
    @Test("a path through a symlink or up with .. is refused by openat2, not followed")
    func openRefusesEscapes() throws {
        let s = Scratch()
        _ = s.dir("ws/real")
        s.file("outside/secret", "host secret")
        s.link("ws/up", to: "../outside")
        s.link("ws/abs", to: s.root + "/outside")
        let ws = try ConfinedDirectory.open(s.root + "/ws")
        for path in ["up/secret", "abs/secret", "../outside/secret", "real/../../outside/secret"] {
            #expect(throws: OSError.self, "\(path) must not open") { _ = try ws.open(path, O_RDONLY) }
        }
        #expect(throws: OSError.self) { _ = try ws.openDirectory("up") }
    }

    @Test("glob components never match . or .., never cross a symlink; .[.] finds nothing")
    func globIsConfined() throws {
        let s = Scratch()
        s.file("ws/d/file", "in")
        _ = s.dir("ws/r/s")
        s.link("ws/q", to: "r/s")
        s.file("host/x/victim", "host")
        s.link("ws/d/x", to: s.root + "/host/x")
        let ws = try ConfinedDirectory.open(s.root + "/ws")
        #expect(throws: ConfinedGlob.Failure.self, "q is a symlink: never traversed") {
            _ = try ConfinedGlob.match("q/.[.]/d/x/*", in: ws)
        }
        #expect(try ConfinedGlob.match("[q]/.[.]/d/x/*", in: ws).isEmpty)
        #expect(try ConfinedGlob.match("r/.[.]/d/x/*", in: ws).isEmpty, ".[.] never matches ..")
        #expect(try ConfinedGlob.match("d/.*", in: ws).isEmpty)
        #expect(throws: ConfinedGlob.Failure.self, "d/x is a symlink: not traversed") {
            _ = try ConfinedGlob.match("*/x/*", in: ws)
        }
        #expect(try ConfinedGlob.match("*/*/*", in: ws).isEmpty, "d/x is a symlink: not traversed")
        #expect(try ConfinedGlob.match("d/*", in: ws) == [["d", "file"], ["d", "x"]])
        #expect(try ConfinedGlob.match("**/file", in: ws) == [["d", "file"]])
        #expect(throws: ConfinedGlob.Failure.self) { _ = try ConfinedGlob.match("d/x/victim", in: ws) }
        #expect(throws: ConfinedGlob.Failure.self) { _ = try ConfinedGlob.match("d/../d", in: ws) }
    }

    @Test("the copier keeps modes minus set-id bits, mtimes and holes; recreates symlinks; skips fifos")
    func copyKeepsMetadata() throws {
        let s = Scratch()
        s.file("src/t/run.sh", "#!/bin/sh\n", mode: 0o4755)
        s.file("src/t/private", "p", mode: 0o600)
        s.link("src/t/link", to: "run.sh")
        #expect(mkfifo(s.root + "/src/t/fifo", 0o644) == 0)
        var times = [timespec(tv_sec: 1_500_000_000, tv_nsec: 0), timespec(tv_sec: 1_500_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, s.root + "/src/t/private", &times, 0) == 0)
        let sparse = open(s.root + "/src/t/sparse", O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(sparse, 256 << 20) == 0 && pwrite(sparse, "end", 3, (256 << 20) - 3) == 3)
        close(sparse)
        _ = s.dir("dst")
        let copier = TreeCopier()
        try copier.copy(
            "t", from: try ConfinedDirectory.open(s.root + "/src"), to: try ConfinedDirectory.open(s.root + "/dst"),
            as: "t", relative: "t")
        #expect(s.lstatMode("dst/t/run.sh").map { $0 & 0o7777 } == 0o755)
        #expect(s.lstatMode("dst/t/private").map { $0 & 0o7777 } == 0o600)
        #expect(s.lstatMode("dst/t/link").map { $0 & S_IFMT } == S_IFLNK)
        #expect(s.lstatMode("dst/t/fifo") == nil)
        #expect(copier.stats.skipped == ["t/fifo"])
        var st = stat()
        #expect(lstat(s.root + "/dst/t/private", &st) == 0 && st.st_mtim.tv_sec == 1_500_000_000)
        #expect(lstat(s.root + "/dst/t/sparse", &st) == 0 && st.st_size == 256 << 20)
        #expect(st.st_blocks * 512 < 1 << 20, "a 256 MiB sparse file stays sparse (\(st.st_blocks) blocks)")
        #expect(copier.stats.bytes < 1 << 20)
    }

    @Test("the copier stops at its byte limit and depth limit")
    func copyLimits() throws {
        let s = Scratch()
        s.file("src/a/big", String(repeating: "x", count: 10_000))
        _ = s.dir("src/b/" + Array(repeating: "n", count: 20).joined(separator: "/"))
        _ = s.dir("dst")
        let src = try ConfinedDirectory.open(s.root + "/src")
        let dst = try ConfinedDirectory.open(s.root + "/dst")
        let copier = TreeCopier()
        copier.byteLimit = 5_000
        #expect(throws: TreeCopier.Refusal.self) { try copier.copy("a", from: src, to: dst, as: "a", relative: "a") }
        let deep = TreeCopier()
        deep.maxDepth = 10
        #expect(throws: TreeCopier.Refusal.self) { try deep.copy("b", from: src, to: dst, as: "b", relative: "b") }
        // Collection stops at the job's deadline.
        let late = TreeCopier()
        late.deadline = TreeCopier.monotonicNow() - 1
        #expect(throws: TreeCopier.Refusal.self) { try late.copy("a", from: src, to: dst, as: "late", relative: "a") }
    }

    @Test("removal works at any depth (2,100 levels) and never follows a symlink out")
    func removeDeepTree() throws {
        let s = Scratch()
        s.file("host/keep", "keep me")
        var fd = open(s.dir("victim"), O_RDONLY | O_DIRECTORY)
        for _ in 0..<2100 {
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
        }
        #expect(symlinkat(s.root + "/host", fd, "out") == 0)
        let ro = openat(fd, "ro", O_CREAT | O_WRONLY, 0o444)
        close(ro)
        close(fd)
        try ConfinedDirectory.open(s.root).remove("victim")
        #expect(s.lstatMode("victim") == nil)
        #expect(s.read("host/keep") == "keep me")
    }

    @Test("changeOwner touches only entries the predicate accepts and never follows links")
    func changeOwnerIsConfined() throws {
        guard geteuid() == 0 else { return }  // needs chown rights; the root suite runs it
        let s = Scratch()
        s.file("lent/mine", "m")
        s.file("outside/rootfile", "r")
        s.link("lent/link", to: s.root + "/outside")
        #expect(chown(s.root + "/lent/mine", 4242, 4242) == 0)
        try ConfinedDirectory.open(s.root + "/lent").changeOwner(uid: 4343, gid: 4343) { $0 == 4242 }
        var st = stat()
        #expect(lstat(s.root + "/lent/mine", &st) == 0 && st.st_uid == 4343)
        #expect(lstat(s.root + "/outside/rootfile", &st) == 0 && st.st_uid == 0)
        #expect(lstat(s.root + "/lent", &st) == 0 && st.st_uid == 0, "the root entry was not the predicate's uid")
    }
}

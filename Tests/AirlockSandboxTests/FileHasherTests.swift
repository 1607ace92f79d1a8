import Foundation
import Testing

@testable import AirlockJob
@testable import AirlockSandbox

@Suite("FileHasher")
struct FileHasherTests {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "hasher-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir + "/out/sub", withIntermediateDirectories: true)
        try "abc".write(toFile: dir + "/out/a.txt", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/out/sub/empty", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/out/link", withDestinationPath: "/etc/passwd")
    }

    @Test("known SHA-256 and SHA-1 values; sizes")
    func knownDigests() throws {
        let e = try FileHasher.hash(root: dir, paths: ["out/a.txt"], sha1: true)
        #expect(e.count == 1)
        #expect(e[0].sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(e[0].sha1 == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(e[0].size == 3)
        let both = try FileHasher.hash(root: dir, paths: ["out"], sha1: true)
        #expect(both.allSatisfy { $0.sha1 != nil && $0.sha256.count == 64 })
    }

    @Test("directories are walked, paths normalised and sorted, duplicates removed")
    func walkAndOrder() throws {
        let e = try FileHasher.hash(root: dir, paths: ["./out/", "out/sub/../a.txt", "out//sub"])
        #expect(e.map(\.path) == ["out/a.txt", "out/link", "out/sub/empty"])
        #expect(
            e.first { $0.path == "out/sub/empty" }?.sha256
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("symlinks are recorded by their target text, never followed")
    func symlinks() throws {
        let e = try FileHasher.hash(root: dir, paths: ["out/link"])
        #expect(e[0].kind == .symlink)
        // The digest of the text "/etc/passwd", not of the file it points to.
        #expect(e[0].size == UInt64("/etc/passwd".utf8.count))
        let passwd = try FileHasher.digest(fileAt: "/etc/passwd")
        #expect(e[0].sha256 != passwd.sha256)
    }

    @Test("the same tree always gives the same list; a missing path is an error naming it")
    func deterministicAndMissing() throws {
        let a = try FileHasher.hash(root: dir, paths: ["out"], sha1: true)
        let b = try FileHasher.hash(root: dir, paths: ["out"], sha1: true)
        #expect(a == b)
        #expect(throws: Error.self) { try FileHasher.hash(root: dir, paths: ["nope"]) }
        do { _ = try FileHasher.hash(root: dir, paths: ["nope"]) } catch { #expect("\(error)".contains("nope")) }
    }

    @Test("a large file hashed as two tasks merges into one entry with both digests")
    func splitMerge() throws {
        let big = [UInt8](repeating: 7, count: 3 << 20)
        #expect(FileManager.default.createFile(atPath: dir + "/big", contents: Data(big)))
        let e = try FileHasher.hash(root: dir, paths: ["big"], sha1: true)
        #expect(e.count == 1)
        let single = try FileHasher.digest(fileAt: dir + "/big", sha1: true)
        #expect(e[0].sha256 == single.sha256 && e[0].sha1 == single.sha1 && e[0].size == UInt64(big.count))
    }
}

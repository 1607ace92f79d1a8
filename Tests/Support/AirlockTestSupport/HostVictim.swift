import Foundation
import Testing

/// Host files a job must not be able to touch through the runner, judged after each attack.
public struct HostVictim {
    public let dir: String
    public var target: String { dir + "/target" }
    public var keep: String { dir + "/tree/keep" }

    /// `dir/target` (root, 0600, "original") and `dir/tree/keep`.
    public init(_ s: TestState) throws {
        dir = s.dir + "/host-victim"
        try FileManager.default.createDirectory(atPath: dir + "/tree", withIntermediateDirectories: true)
        FileManager.default.createFile(
            atPath: target, contents: Data("original\n".utf8), attributes: [.posixPermissions: 0o600])
        FileManager.default.createFile(atPath: keep, contents: Data("keep\n".utf8))
    }

    /// Contents, mode, owner and link count of the target, and the tree, are as made.
    public func expectUntouched(sourceLocation: SourceLocation = #_sourceLocation) {
        var st = stat()
        #expect(lstat(target, &st) == 0, "target gone", sourceLocation: sourceLocation)
        #expect(st.st_mode & 0o7777 == 0o600 && st.st_uid == 0 && st.st_nlink == 1, sourceLocation: sourceLocation)
        #expect(
            (try? String(contentsOfFile: target, encoding: .utf8)) == "original\n", "target replaced",
            sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: keep), "host tree deleted", sourceLocation: sourceLocation)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        #expect(
            Set(names) == ["target", "tree"], "new files in the host dir: \(names)", sourceLocation: sourceLocation)
    }
}

import Foundation

@testable import AirlockProfile

/// The repository root, found from this file's path (Tests/AirlockProfileTests/…).
let repoRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A temporary directory with the given files, removed by `cleanup()`.
struct TempProfiles {
    let dir: String

    init(_ files: [String: String]) throws {
        dir =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("airlock-profiles-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, text) in files {
            let path = dir + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    func loader(embedded: [String: String] = [:]) -> ProfileLoader {
        ProfileLoader(searchPaths: [dir], syscalls: FixedSyscallTable(), embedded: embedded)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

/// A minimal valid base profile for merge tests.
let baseYAML = """
    name: base
    description: base profile
    seccomp:
      defaultAction: allow
      rules:
        - {names: [ptrace], action: errno, why: base rule}
    filesystem:
      binds:
        - {src: /usr}
        - {src: /lib, dst: /lib, mode: ro}
      symlinks:
        - {path: /bin, target: usr/bin}
    limits: {memory: 1GiB, pids: 100, timeout: 10m}

    """

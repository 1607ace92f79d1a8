import AirlockTestSupport
import Foundation
import Testing

extension SandboxIntegration {
    /// A helper from another build: the real one, handed the agent's config with its version
    /// token replaced (`sed -z` edits the first NUL-terminated token), as an out-of-date
    /// installed helper would read it.
    static func mismatchedHelper(in dir: String) throws -> String {
        let path = dir + "/airlock-helper-other-version"
        let script = """
            #!/bin/sh
            tmp=$(mktemp) || exit 125
            sed -z '1s/.*/999/' /proc/self/fd/3 > "$tmp" || exit 125
            exec 3<"$tmp"
            rm -f "$tmp"
            exec '\(Host.helper)'

            """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    @Test("a helper that reads another config version is refused with a fix; nothing is left behind")
    func helperVersionMismatch() throws {
        let s = TestState()
        let helper = try Self.mismatchedHelper(in: s.dir)
        let r = try s.exec(["/bin/true"], probe: false, env: ["AIRLOCK_HELPER": helper])
        #expect(r.status != 0)
        #expect(r.stderr.contains("reading the launch config '\(helper)'"), "\(r.stderr)")
        #expect(r.stderr.contains("Protocol error"), "\(r.stderr)")
        #expect(r.stderr.contains("`make helper`"), "\(r.stderr)")
        Leftovers.expectNone(s)
        // The same launch with the real helper works: the refusal was the version, nothing else.
        let ok = try s.exec(["/bin/true"], probe: false)
        #expect(ok.status == 0, "\(ok.stderr)")
        Leftovers.expectNone(s)
    }
}

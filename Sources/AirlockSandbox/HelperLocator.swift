import AirlockCore
import Foundation

/// Finds the `airlock-helper` binary: `$AIRLOCK_HELPER`, then next to the running executable
/// (where `swift build` and `make build` put it), then `../libexec/airlock/` for installs.
public enum HelperLocator {
    public static func locate(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> String
    {
        var candidates: [String] = []
        if let p = env["AIRLOCK_HELPER"], !p.isEmpty { candidates.append(p) }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let dir = (exe as NSString).deletingLastPathComponent
        candidates.append(dir + "/airlock-helper")
        // Test bundles live one level below the build directory.
        candidates.append((dir as NSString).deletingLastPathComponent + "/airlock-helper")
        candidates.append(dir + "/../libexec/airlock/airlock-helper")
        for c in candidates where access(c, X_OK) == 0 { return c }
        throw AirlockError(
            .hostUnsupported,
            "the sandbox helper 'airlock-helper' was not found (looked at \(candidates.joined(separator: ", ")))",
            hint: "run `make build` (or `swift build`), or set AIRLOCK_HELPER to its path")
    }
}

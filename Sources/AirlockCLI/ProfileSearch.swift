import AirlockCore
import AirlockProfile
import AirlockSandbox
import Foundation

/// Where `--profile NAME` is looked up: `$AIRLOCK_PROFILE_PATH` (colon-separated), `./Profiles`,
/// `/etc/airlock/profiles`, then the profiles built into the binary.
enum ProfileSearch {
    static var paths: [String] {
        var p: [String] = []
        if let env = ProcessInfo.processInfo.environment["AIRLOCK_PROFILE_PATH"] {
            p += env.split(separator: ":").map(String.init)
        }
        p.append(FileManager.default.currentDirectoryPath + "/Profiles")
        p.append("/etc/airlock/profiles")
        return p
    }

    static func load(_ nameOrPath: String, relativeTo base: String? = nil) throws -> Profile {
        var search = paths
        if let base { search.insert(base, at: 0) }
        let loader = ProfileLoader(searchPaths: search, syscalls: HostSyscalls())
        var ref = nameOrPath
        if let base, (ref.contains("/") || ref.hasSuffix(".yaml") || ref.hasSuffix(".json")), !ref.hasPrefix("/") {
            ref = base + "/" + ref
        }
        let loaded = try loader.load(ref)
        for w in loaded.warnings { warn(w) }
        return loaded.profile
    }
}

/// Forwards SIGINT/SIGTERM/SIGHUP to running sandboxes; a second signal kills them at once.
final class SignalForwarder: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private var count = 0

    init(sandbox: Sandbox) {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self, sandbox] in
                guard let self else { return }
                self.count += 1
                if self.count == 1 {
                    info("received signal \(sig); stopping the job (again to kill it at once)")
                    sandbox.signalAll(sig)
                } else {
                    sandbox.killAll()
                }
            }
            s.resume()
            sources.append(s)
        }
        signal(SIGPIPE, SIG_IGN)
    }
}

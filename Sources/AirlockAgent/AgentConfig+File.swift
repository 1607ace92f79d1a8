import AirlockOS
import Foundation

extension AgentConfig {
    /// Writes the config as YAML to `path` (what `airlock register` does): created 0600 from the
    /// start, since it holds the runner token, and replaced atomically, so a reader sees the old
    /// or the new file, never a mix. A symbolic link at `path` is not followed.
    public func write(to path: String) throws {
        try PrivateFile.replace(path, contents: Array(yaml().utf8))
    }
}

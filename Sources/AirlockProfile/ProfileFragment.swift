import AirlockCore

/// One profile file as written, before `extends` is resolved. Every field is optional so that a
/// child can override only what it names.
struct ProfileFragment {
    /// `limits` fields; `.some(nil)` means "explicitly unlimited".
    struct LimitsPatch {
        var memory: UInt64??
        var pids: Int??
        var cpus: Double??
        var nofile: UInt64?
        var timeout: Double??
        var logLimit: UInt64?
        var workspace: UInt64??
        var cgroupFallback: CgroupFallback?
    }

    /// A parent named in `extends`, with where it was named.
    struct ParentRef {
        var reference: String
        var location: SourceLocation?
    }

    var name: String
    /// The file name used in messages.
    var file: String
    /// What identifies the file for cycle detection (absolute path or `embedded:<name>`).
    var identity: String
    /// The directory relative `extends` paths are resolved against (`nil` for embedded files).
    var directory: String?
    var bytes: [UInt8]
    var description: String?
    var extends: [ParentRef] = []
    var defaultAction: SeccompAction?
    /// `seccomp.defaultErrno` given without `defaultAction` (applies to an inherited `errno`).
    var defaultErrnoOnly: (value: Int32, location: SourceLocation)?
    var rules: [SeccompRule] = []
    /// OCI imports replace the inherited seccomp part instead of appending to it.
    var replacesSeccomp = false
    var binds: [BindMount] = []
    var symlinks: [SymlinkSpec] = []
    var tmpSize: UInt64?
    var rootSize: UInt64?
    var network: NetworkMode?
    var capabilities: [String]?
    /// `secrets.allowEnv`: whether jobs may take secrets as environment variables.
    var allowSecretEnv: Bool?
    var limits = LimitsPatch()
    var warnings: [String] = []
}

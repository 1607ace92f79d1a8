import AirlockCore

/// Folds a lineage of fragments (base first) into one validated `Profile`.
///
/// Merge rules: scalars in a child override; `seccomp.defaultAction` overrides when given;
/// rules are appended after the parent's (an OCI import replaces them); binds and symlinks are
/// merged by destination path (a child's entry replaces the parent's at the same path, others are
/// appended); limits merge field by field.
enum ProfileMerger {
    static func merge(_ lineage: [ProfileFragment]) throws -> LoadedProfile {
        guard let top = lineage.last else {
            throw AirlockError(.internalError, "empty profile lineage")
        }
        var warnings: [String] = []
        var description = ""
        var defaultAction: SeccompAction?
        var rules: [SeccompRule] = []
        var fs = FilesystemSpec()
        var network = NetworkMode.none
        var limits = LimitsSpec()
        var capabilities: [String] = []
        var allowSecretEnv = false

        for f in lineage {
            warnings += f.warnings
            if let d = f.description { description = d }
            if f.replacesSeccomp { rules = [] }
            if let a = f.defaultAction { defaultAction = a }
            if let (errno, location) = f.defaultErrnoOnly {
                guard case .errno = defaultAction else {
                    throw AirlockError(
                        .invalidFile,
                        "\(location): seccomp.defaultErrno is set but the inherited defaultAction is \(defaultAction?.text ?? "unset"), not errno",
                        hint: "also set 'defaultAction: errno', or remove defaultErrno")
                }
                defaultAction = .errno(errno)
            }
            rules += f.rules
            for b in f.binds {
                if let i = fs.binds.firstIndex(where: { $0.destination == b.destination }) {
                    fs.binds[i] = b
                } else {
                    fs.binds.append(b)
                }
            }
            for s in f.symlinks {
                if let i = fs.symlinks.firstIndex(where: { $0.path == s.path }) {
                    fs.symlinks[i] = s
                } else {
                    fs.symlinks.append(s)
                }
            }
            if let v = f.tmpSize { fs.tmpSize = v }
            if let v = f.rootSize { fs.rootSize = v }
            if let v = f.network { network = v }
            if let v = f.capabilities { capabilities = v }
            if let v = f.allowSecretEnv { allowSecretEnv = v }
            if let v = f.limits.memory { limits.memory = v }
            if let v = f.limits.pids { limits.pids = v }
            if let v = f.limits.cpus { limits.cpus = v }
            if let v = f.limits.nofile { limits.nofile = v }
            if let v = f.limits.timeout { limits.timeout = v }
            if let v = f.limits.logLimit { limits.logLimit = v }
            if let v = f.limits.workspace { limits.workspace = v }
            if let v = f.limits.cgroupFallback { limits.cgroupFallback = v }
        }

        guard let defaultAction else {
            throw AirlockError(
                .invalidFile,
                "\(lineage.first!.file): no seccomp.defaultAction in \(lineage.map(\.file).joined(separator: " → "))",
                hint:
                    "set 'seccomp: {defaultAction: allow}' (a deny-list) or 'errno' (an allow-list) in the base profile, or extend 'default'"
            )
        }
        for s in fs.symlinks {
            if let b = fs.binds.first(where: { $0.destination == s.path }) {
                throw AirlockError(
                    .invalidFile,
                    "\(top.file): '\(s.path)' is both a bind (from \(b.source)) and a symlink (to \(s.target))",
                    hint: "keep only one of the two")
            }
        }
        let seccomp = SeccompSpec(defaultAction: defaultAction, rules: rules)
        _ = try seccomp.normalizedRules()

        let profile = Profile(
            name: top.name, description: description, lineage: lineage.map(\.name), seccomp: seccomp,
            filesystem: fs, network: network, limits: limits, capabilities: capabilities,
            allowSecretEnv: allowSecretEnv)
        return LoadedProfile(
            profile: profile, warnings: warnings,
            sources: lineage.map { .init(name: $0.name, file: $0.file, bytes: $0.bytes) })
    }
}

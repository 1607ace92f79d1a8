import AirlockCore

/// Parses Airlock's own YAML profile format into a `ProfileFragment`, validating every field
/// with located errors (`default.yaml:42:15: unknown syscall 'ptrac' in seccomp.rules[3].names`).
struct ProfileParser {
    static let topFields = [
        "name", "description", "extends", "seccomp", "filesystem", "network", "capabilities", "limits", "secrets",
    ]
    static let seccompFields = ["defaultAction", "defaultErrno", "rules"]
    static let ruleFields = ["names", "action", "errno", "args", "why"]
    static let argFields = ["index", "op", "value", "valueTwo"]
    static let filesystemFields = ["binds", "symlinks", "tmpSize", "rootSize"]
    static let bindFields = ["src", "dst", "mode", "optional"]
    static let symlinkFields = ["path", "target"]
    static let limitFields = ["memory", "pids", "cpus", "nofile", "timeout", "logLimit", "workspace", "cgroupFallback"]
    /// Mount points Airlock creates itself; a bind there would hide or fight them.
    static let managedPaths = ["/proc", "/dev", "/tmp", "/workspace"]

    let syscalls: any SyscallTable

    func parse(root: YAMLNode, into fragment: inout ProfileFragment) throws {
        let map = try root.mapping(allowedKeys: Self.topFields)
        if let n = map["name"] {
            let name = try n.nonEmptyString()
            guard ProfileLoader.isValidName(name) else {
                throw n.error(
                    "field 'name' may contain only letters, digits, '.', '_' and '-', not '\(name)'")
            }
            if name != fragment.name {
                fragment.warnings.append(
                    "\(n.location): profile is named '\(name)' but the file is '\(fragment.file)'; using '\(name)'")
                fragment.name = name
            }
        }
        fragment.description = try map["description"]?.string()
        if let n = map["extends"] {
            let items = n.scalarText != nil ? [n] : try n.sequence()
            fragment.extends = try items.map { .init(reference: try $0.nonEmptyString(), location: $0.location) }
        }
        if let n = map["seccomp"] { try parseSeccomp(n, into: &fragment) }
        if let n = map["filesystem"] { try parseFilesystem(n, into: &fragment) }
        if let n = map["network"] {
            fragment.network = NetworkMode(rawValue: try n.oneOf(["none", "host"]))
        }
        if let n = map["capabilities"] {
            let caps = try n.stringList()
            if let first = caps.first {
                throw n.error(
                    "field 'capabilities' must be empty; '\(first)' cannot be kept",
                    hint:
                        "Airlock drops every capability: inside the user namespace a capability such as CAP_SYS_ADMIN reopens the kernel interfaces the seccomp filter closes; remove the list (or write 'capabilities: []')"
                )
            }
            fragment.capabilities = []
        } else if map.contains("capabilities") {
            fragment.capabilities = []
        }
        if let n = map["limits"] { try parseLimits(n, into: &fragment) }
        if let n = map["secrets"] {
            let m = try n.mapping(allowedKeys: ["allowEnv"])
            if let e = m["allowEnv"] { fragment.allowSecretEnv = try e.bool() }
        }
    }

    // MARK: seccomp

    func parseSeccomp(_ node: YAMLNode, into fragment: inout ProfileFragment) throws {
        let m = try node.mapping(allowedKeys: Self.seccompFields)
        let errno = try m["defaultErrno"].map(parseErrno)
        if let n = m["defaultAction"] {
            let action = try parseAction(n, errno: errno ?? 1)
            if errno != nil, !isErrno(action) {
                throw try m.required("defaultErrno").error(
                    "field 'seccomp.defaultErrno' only applies when seccomp.defaultAction is errno",
                    hint: "remove it, or set 'defaultAction: errno'")
            }
            fragment.defaultAction = action
        } else if let errno, let n = m["defaultErrno"] {
            fragment.defaultErrnoOnly = (errno, n.location)
        }
        for ruleNode in try m["rules"]?.sequence() ?? [] {
            fragment.rules.append(try parseRule(ruleNode))
        }
    }

    func parseRule(_ node: YAMLNode) throws -> SeccompRule {
        let m = try node.mapping(allowedKeys: Self.ruleFields)
        let namesNode = try m.required("names", hint: "list the syscalls, e.g. 'names: [ptrace]'")
        let nameNodes = namesNode.scalarText != nil ? [namesNode] : try namesNode.sequence()
        guard !nameNodes.isEmpty else {
            throw namesNode.error("field '\(namesNode.path)' must name at least one syscall")
        }
        var names: [String] = []
        for n in nameNodes {
            let name = try n.nonEmptyString()
            try checkSyscall(name, at: n, field: namesNode.path)
            names.append(name)
        }
        let actionNode = try m.required("action", hint: "add 'action: errno' (or allow, kill, trap, log)")
        let errno = try m["errno"].map(parseErrno)
        let action = try parseAction(actionNode, errno: errno ?? 1)
        if errno != nil, !isErrno(action) {
            throw try m.required("errno").error(
                "field '\(node.path).errno' only applies to 'action: errno', not '\(action.text)'",
                hint: "remove it, or change the action to errno")
        }
        let args = try parseArgs(m["args"])
        return SeccompRule(
            names: names, action: action, args: args, why: try m["why"]?.string(), location: node.location)
    }

    func parseArgs(_ node: YAMLNode?) throws -> [SeccompArg] {
        guard let node else { return [] }
        var args: [SeccompArg] = []
        var seenIndex: [Int: YAMLNode] = [:]
        for a in try node.sequence() {
            let m = try a.mapping(allowedKeys: Self.argFields)
            let indexNode = try m.required("index", hint: "add 'index: 0' (the argument number, 0 to 5)")
            let index = try indexNode.int()
            guard (0...5).contains(index) else {
                throw indexNode.error(
                    "field '\(indexNode.path)' must be between 0 and 5 (syscalls take at most six arguments), not \(index)"
                )
            }
            if seenIndex[index] != nil {
                throw indexNode.error(
                    "argument \(index) is compared twice in one rule",
                    hint:
                        "libseccomp accepts one comparison per argument in a rule; split it into two rules, or combine the values with masked_eq"
                )
            }
            seenIndex[index] = indexNode
            let opNode = try m.required("op", hint: "add 'op: eq' (or ne, lt, le, gt, ge, masked_eq)")
            let op = SeccompArg.Op(rawValue: try opNode.oneOf(SeccompArg.Op.allCases.map(\.rawValue)))!
            let value = try m.required("value").uint64()
            let valueTwo = try m["valueTwo"]?.uint64() ?? 0
            if op == .maskedEq, valueTwo & ~value != 0 {
                throw a.error(
                    "masked_eq compares (arg & value) with valueTwo, but valueTwo has bits outside the mask, so it never matches",
                    hint: "write the mask as 'value' and the expected bits as 'valueTwo' (a subset of the mask)")
            }
            if op != .maskedEq, m["valueTwo"] != nil {
                throw try m.required("valueTwo").error(
                    "field '\(a.path).valueTwo' only applies to op masked_eq", hint: "remove it")
            }
            args.append(SeccompArg(index: index, op: op, value: value, valueTwo: valueTwo))
        }
        return args
    }

    func parseAction(_ node: YAMLNode, errno: Int32) throws -> SeccompAction {
        switch try node.oneOf(SeccompAction.spellings) {
        case "allow": return .allow
        case "errno": return .errno(errno)
        case "kill": return .killProcess
        case "trap": return .trap
        default: return .log
        }
    }

    func parseErrno(_ node: YAMLNode) throws -> Int32 {
        let text = try node.string()
        if let n = ErrnoName.number(text) { return n }
        if let v = YAMLNode.integerValue(of: text), v >= 1, v <= Int(ErrnoName.maximum) { return Int32(v) }
        throw node.error(
            "\(node.fieldDescription) must be an errno name (EPERM, ENOSYS, EACCES, …) or a number from 1 to \(ErrnoName.maximum), not '\(text)'\(Suggest.didYouMean(text.uppercased(), in: ErrnoName.table.keys))"
        )
    }

    func checkSyscall(_ name: String, at node: YAMLNode, field: String) throws {
        guard syscalls.number(of: name) == nil else { return }
        let suggestion = Suggest.closest(to: name, in: syscalls.allNames)
        throw node.error(
            "unknown syscall '\(name)' in \(field)\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")",
            hint: suggestion.map { "rename it to '\($0)'" }
                ?? "libseccomp on this host does not know it; check the spelling (scmp_sys_resolver \(name)) or remove it"
        )
    }

    private func isErrno(_ a: SeccompAction) -> Bool {
        if case .errno = a { return true }
        return false
    }

    // MARK: filesystem

    func parseFilesystem(_ node: YAMLNode, into fragment: inout ProfileFragment) throws {
        let m = try node.mapping(allowedKeys: Self.filesystemFields)
        for b in try m["binds"]?.sequence() ?? [] {
            let bm = try b.mapping(allowedKeys: Self.bindFields)
            let srcNode = try bm.required("src", hint: "add the host path, e.g. 'src: /usr'")
            let src = try srcNode.nonEmptyString()
            guard PathSyntax.isAbsolute(src) else {
                throw srcNode.error("field '\(srcNode.path)' must be an absolute host path, not '\(src)'")
            }
            let dstNode = bm["dst"] ?? srcNode
            let dst = try dstNode.nonEmptyString()
            try checkSandboxPath(dst, at: dstNode, what: "bind destination")
            let mode = try bm["mode"]?.oneOf(["ro", "rw"]) ?? "ro"
            let optional = try bm["optional"]?.bool() ?? false
            let bind = BindMount(source: src, destination: dst, readOnly: mode == "ro", optional: optional)
            if let i = fragment.binds.firstIndex(where: { $0.destination == dst }) {
                throw dstNode.error(
                    "two binds in this file target '\(dst)'", hint: "remove one (bind \(i) already targets it)")
            }
            fragment.binds.append(bind)
        }
        for s in try m["symlinks"]?.sequence() ?? [] {
            let sm = try s.mapping(allowedKeys: Self.symlinkFields)
            let pathNode = try sm.required("path", hint: "add the link's absolute path, e.g. 'path: /bin'")
            let path = try pathNode.nonEmptyString()
            try checkSandboxPath(path, at: pathNode, what: "symlink path")
            let target = try sm.required("target", hint: "add what the link points to, e.g. 'target: usr/bin'")
                .nonEmptyString()
            fragment.symlinks.append(SymlinkSpec(target: target, path: path))
        }
        if let n = m["tmpSize"] { fragment.tmpSize = try positiveSize(n) }
        if let n = m["rootSize"] { fragment.rootSize = try positiveSize(n) }
    }

    func checkSandboxPath(_ p: String, at node: YAMLNode, what: String) throws {
        guard PathSyntax.isAbsolute(p) else {
            throw node.error(
                "\(what) '\(p)' in \(node.fieldDescription) must be an absolute path", hint: "write it as '/\(p)'")
        }
        guard PathSyntax.isNormalizedAbsolute(p) else {
            throw node.error(
                "\(what) '\(p)' in \(node.fieldDescription) is not normalised (no '..', '.', '//' or trailing '/')",
                hint: "write it as '\(PathSyntax.normalized(p))'")
        }
        guard p != "/" else {
            throw node.error(
                "\(what) in \(node.fieldDescription) cannot be '/'",
                hint: "the sandbox root is a fresh tmpfs; bind the directories you need (/usr, /lib, …) one by one")
        }
        if let managed = Self.managedPaths.first(where: { PathSyntax.isWithin(p, $0) }) {
            throw node.error(
                "\(what) '\(p)' in \(node.fieldDescription) is inside \(managed), which Airlock manages itself",
                hint:
                    "remove it: Airlock mounts a fresh /proc, a minimal /dev, a size-limited /tmp (filesystem.tmpSize) and the job's /workspace"
            )
        }
    }

    // MARK: limits

    func parseLimits(_ node: YAMLNode, into fragment: inout ProfileFragment) throws {
        let m = try node.mapping(allowedKeys: Self.limitFields)
        func unlimited(_ n: YAMLNode) -> Bool { n.scalarText == "unlimited" }
        if let n = m["memory"] { fragment.limits.memory = unlimited(n) ? .some(nil) : try positiveSize(n) }
        if let n = m["pids"] { fragment.limits.pids = unlimited(n) ? .some(nil) : try positiveInt(n) }
        if let n = m["cpus"] {
            if unlimited(n) {
                fragment.limits.cpus = .some(nil)
            } else {
                let c = try n.double()
                guard c > 0 else { throw n.error("field '\(n.path)' must be positive, not \(c)") }
                fragment.limits.cpus = c
            }
        }
        if let n = m["nofile"] { fragment.limits.nofile = UInt64(try positiveInt(n)) }
        if let n = m["timeout"] {
            if unlimited(n) {
                fragment.limits.timeout = .some(nil)
            } else {
                let t = try n.duration()
                guard t > 0 else { throw n.error("field '\(n.path)' must be positive") }
                fragment.limits.timeout = t
            }
        }
        if let n = m["logLimit"] { fragment.limits.logLimit = try positiveSize(n) }
        if let n = m["workspace"] { fragment.limits.workspace = unlimited(n) ? .some(nil) : try positiveSize(n) }
        if let n = m["cgroupFallback"] {
            fragment.limits.cgroupFallback = CgroupFallback(rawValue: try n.oneOf(["refuse", "rlimits"]))
        }
    }

    func positiveSize(_ n: YAMLNode) throws -> UInt64 {
        let v = try n.byteSize()
        guard v > 0 else { throw n.error("field '\(n.path)' must be larger than 0") }
        return v
    }

    func positiveInt(_ n: YAMLNode) throws -> Int {
        let v = try n.int()
        guard v > 0 else { throw n.error("field '\(n.path)' must be positive, not \(v)") }
        return v
    }
}

import AirlockCore

extension Profile {
    /// The flattened profile as a deterministic JSON value (sorted keys; source locations left
    /// out, so moving a rule within a file changes nothing but its meaning does).
    ///
    /// - Parameter documentation: include `description` and each rule's `why`.
    public func canonicalValue(documentation: Bool = true) -> JSONValue {
        func hex(_ v: UInt64) -> JSONValue { .string("0x" + String(v, radix: 16)) }
        func opt<T>(_ v: T?, _ f: (T) -> JSONValue) -> JSONValue { v.map(f) ?? .null }
        let rules: [JSONValue] = seccomp.rules.map { r in
            var o: [String: JSONValue] = [
                "names": .array(r.names.map(JSONValue.string)),
                "action": .string(r.action.text),
                "args": .array(
                    r.args.map {
                        .object([
                            "index": .int(Int64($0.index)), "op": .string($0.op.rawValue), "value": hex($0.value),
                            "valueTwo": hex($0.valueTwo),
                        ])
                    }),
            ]
            if documentation, let why = r.why { o["why"] = .string(why) }
            return .object(o)
        }
        var top: [String: JSONValue] = [
            "name": .string(name),
            "lineage": .array(lineage.map(JSONValue.string)),
            "seccomp": .object(["defaultAction": .string(seccomp.defaultAction.text), "rules": .array(rules)]),
            "filesystem": .object([
                "binds": .array(
                    filesystem.binds.map {
                        .object([
                            "src": .string($0.source), "dst": .string($0.destination),
                            "mode": .string($0.readOnly ? "ro" : "rw"), "optional": .bool($0.optional),
                        ])
                    }),
                "symlinks": .array(
                    filesystem.symlinks.map { .object(["path": .string($0.path), "target": .string($0.target)]) }),
                "tmpSize": .uint(filesystem.tmpSize),
                "rootSize": .uint(filesystem.rootSize),
            ]),
            "network": .string(network.rawValue),
            "secrets": .object(["allowEnv": .bool(allowSecretEnv)]),
            "capabilities": .array(capabilities.map(JSONValue.string)),
            "limits": .object([
                "memory": opt(limits.memory, JSONValue.uint),
                "pids": opt(limits.pids) { .int(Int64($0)) },
                "cpus": opt(limits.cpus, JSONValue.double),
                "nofile": .uint(limits.nofile),
                "timeout": opt(limits.timeout, JSONValue.double),
                "logLimit": .uint(limits.logLimit),
                "workspace": opt(limits.workspace, JSONValue.uint),
                "cgroupFallback": .string(limits.cgroupFallback.rawValue),
            ]),
        ]
        if documentation { top["description"] = .string(description) }
        return .object(top)
    }

    /// Deterministic pretty JSON of the flattened profile, for `profile explain` and diffs.
    public var canonicalDescription: String { canonicalValue().rendered(pretty: true) }

    /// Compact deterministic JSON of what the sandbox enforces (no descriptions or `why`s):
    /// hash this to identify a policy.
    public var canonicalPolicyJSON: String { canonicalValue(documentation: false).rendered() }
}

import Foundation

/// Reads and validates job files (`job.yaml`).
///
/// ```yaml
/// name: hello                # required, [A-Za-z0-9._-]+
/// profile: default           # a profile name or path (default: default)
/// inputs: [src/]             # relative to this file's directory unless absolute
/// env: {CC: cc}              # NAME: scalar, file order kept
/// steps:                     # required, at least one; names unique
///   - name: build
///     run: cc -o hello src/hello.c
///     when: on_success       # on_success (default), on_failure or always
///     timeout: 5m            # optional, within the job's timeout
/// outputs: [hello]           # relative to /workspace; globs allowed; no '..'
/// timeout: 10m
/// resources: {memory: 1GiB, pids: 256, cpus: 2}
/// sourceDateEpoch: 1700000000
/// secrets:                   # names unique, [A-Za-z_][A-Za-z0-9_.-]*
///   - name: deploy_token
///     source: vault:secret/ci/deploy#token    # or local:NAME, vault-dynamic:PATH[#FIELD]
///     ttl: 15m               # optional
///     delivery: file         # file (default, /run/secrets/NAME) or env
/// ```
public enum JobLoader {
    /// The fields a job file may contain.
    public static let fields = [
        "name", "profile", "inputs", "steps", "env", "outputs", "timeout", "resources", "sourceDateEpoch",
        "secrets",
    ]
    static let stepFields = ["name", "run", "when", "timeout"]
    static let resourceFields = ["memory", "pids", "cpus", "workspace"]
    static let secretFields = ["name", "source", "ttl", "delivery"]

    /// Parses and validates job YAML. `file` names the source in messages. Inputs are not
    /// checked against the file system (see `load(path:)`).
    public static func parse(yaml: String, file: String) throws -> Job {
        try parseDetailed(yaml: yaml, file: file).job
    }

    /// Reads the job file at `path`, validates it, checks that every input exists, and sets
    /// `sourceFile` to the file's absolute path.
    ///
    /// - Throws: `AirlockError(.missingFile)` when the file or an input does not exist
    ///   (`job.yaml:7: input 'src/' does not exist (looked at /abs/src)`), `.invalidFile` for
    ///   anything that does not parse or validate.
    public static func load(path: String) throws -> Job {
        let bytes = try YAMLReader.readFile(path)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw AirlockError(.invalidFile, "\(path): the file is not UTF-8 text", hint: "save the file as UTF-8")
        }
        var (job, inputNodes) = try parseDetailed(yaml: text, file: path)
        job.sourceFile = PathSyntax.resolve(path, against: FileManager.default.currentDirectoryPath)
        for (input, node) in zip(job.inputs, inputNodes) {
            let resolved = job.resolvedPath(forInput: input)
            if !FileManager.default.fileExists(atPath: resolved) {
                let where_ = SourceLocation(file: path, line: node.location.line)
                throw AirlockError(
                    .missingFile, "\(where_): input '\(input)' does not exist (looked at \(resolved))",
                    hint:
                        "create it, or fix the path (relative inputs are taken from the job file's directory, \(job.baseDirectory))"
                )
            }
        }
        return job
    }

    /// Parses and returns the job with the nodes of its inputs (for located messages).
    static func parseDetailed(yaml: String, file: String) throws -> (job: Job, inputNodes: [YAMLNode]) {
        let root = try YAMLReader.parse(yaml, file: file)
        let map = try root.mapping(allowedKeys: fields)

        let nameNode = try map.required("name", hint: "add a line such as 'name: build-hello'")
        let name = try nameNode.nonEmptyString()
        guard name.allSatisfy(isNameCharacter) else {
            throw nameNode.error(
                "field 'name' may contain only letters, digits, '.', '_' and '-', not '\(name)'",
                hint: "use a name like '\(String(name.map { isNameCharacter($0) ? $0 : "-" }))'")
        }

        let profile = try map["profile"]?.nonEmptyString() ?? "default"

        var inputs: [String] = []
        var inputNodes: [YAMLNode] = []
        for node in try map["inputs"]?.sequence() ?? [] {
            let path = try node.nonEmptyString()
            if PathSyntax.isAbsolute(path) {
                throw node.error(
                    "\(node.fieldDescription) must be relative to the job file's directory, not the absolute path '\(path)'",
                    hint:
                        "copy what the job needs next to the job file and name it relatively; the runner never reads other host files"
                )
            }
            if PathSyntax.hasParentReference(path) {
                throw node.error(
                    "\(node.fieldDescription) must stay inside the job file's directory; '\(path)' contains '..'",
                    hint: "move the job file up, or the input down, so the input sits below the job file")
            }
            inputs.append(path)
            inputNodes.append(node)
        }

        let steps = try parseSteps(
            map.required("steps", hint: "add a 'steps:' list with at least one '- name: …\n    run: …'"))
        let env = try map["env"].map(parseEnv) ?? []

        var outputs: [String] = []
        for node in try map["outputs"]?.sequence() ?? [] {
            let path = try node.nonEmptyString()
            if PathSyntax.isAbsolute(path) {
                throw node.error(
                    "\(node.fieldDescription) must be relative to /workspace, not the absolute path '\(path)'",
                    hint: "write it relative to the workspace, e.g. '\(PathSyntax.components(path).last ?? "out")'")
            }
            if PathSyntax.hasParentReference(path) {
                throw node.error(
                    "\(node.fieldDescription) must stay inside /workspace; '\(path)' contains '..'",
                    hint: "outputs are collected from the workspace only; remove the '..' component")
            }
            outputs.append(path)
        }

        var timeout: Double?
        if let node = map["timeout"] {
            let t = try node.duration()
            guard t > 0 else { throw node.error("field 'timeout' must be positive") }
            timeout = t
        }

        var resources = Job.Resources()
        if let node = map["resources"] {
            let r = try node.mapping(allowedKeys: resourceFields)
            if let n = r["memory"] {
                let m = try n.byteSize()
                guard m > 0 else { throw n.error("field 'resources.memory' must be positive") }
                resources.memory = m
            }
            if let n = r["workspace"] {
                let w = try n.byteSize()
                guard w > 0 else { throw n.error("field 'resources.workspace' must be positive") }
                resources.workspace = w
            }
            if let n = r["pids"] {
                let p = try n.int()
                guard p > 0 else { throw n.error("field 'resources.pids' must be positive, not \(p)") }
                resources.pids = p
            }
            if let n = r["cpus"] {
                let c = try n.double()
                guard c > 0 else { throw n.error("field 'resources.cpus' must be positive, not \(c)") }
                resources.cpus = c
            }
        }

        var epoch: Int64?
        if let node = map["sourceDateEpoch"] {
            let e = try node.int()
            guard e >= 0 else { throw node.error("field 'sourceDateEpoch' must not be negative") }
            epoch = Int64(e)
        }

        let secrets = try map["secrets"].map { try parseSecrets($0, env: env) } ?? []

        let job = Job(
            name: name, profile: profile, inputs: inputs, steps: steps, env: env, outputs: outputs,
            timeout: timeout, resources: resources, secrets: secrets, sourceDateEpoch: epoch, sourceFile: nil)
        return (job, inputNodes)
    }

    static func parseSteps(_ node: YAMLNode) throws -> [Job.Step] {
        let items = try node.sequence()
        guard !items.isEmpty else {
            throw node.error("field 'steps' must list at least one step", hint: "add '- name: build\n    run: make'")
        }
        var steps: [Job.Step] = []
        var firstLine: [String: Int] = [:]
        for item in items {
            let m = try item.mapping(allowedKeys: stepFields)
            let nameNode = try m.required("name")
            let name = try nameNode.nonEmptyString()
            if let line = firstLine[name] {
                throw nameNode.error(
                    "step name '\(name)' is used twice (first on line \(line))", hint: "give every step its own name")
            }
            firstLine[name] = nameNode.location.line ?? 0
            let run = try m.required("run", hint: "add the shell commands to run, e.g. 'run: make'").string()
            var when = Job.Step.When.onSuccess
            if let w = m["when"] {
                let text = try w.string()
                guard let parsed = Job.Step.When(rawValue: text) else {
                    throw w.error(
                        "step '\(name)': 'when: \(text)' is not a step condition",
                        hint: "use one of: " + Job.Step.When.allCases.map(\.rawValue).joined(separator: ", "))
                }
                when = parsed
            }
            var timeout: Double?
            if let node = m["timeout"] {
                let t = try node.duration()
                guard t > 0 else { throw node.error("step '\(name)': 'timeout' must be positive") }
                timeout = t
            }
            steps.append(Job.Step(name: name, run: run, when: when, timeout: timeout))
        }
        return steps
    }

    static func parseEnv(_ node: YAMLNode) throws -> [(key: String, value: String)] {
        let m = try node.mapping()
        var env: [(key: String, value: String)] = []
        for entry in m.entries {
            guard isEnvName(entry.key) else {
                throw entry.keyNode.error(
                    "'\(entry.key)' in field 'env' is not a valid variable name",
                    hint: "names start with a letter or '_' and contain only letters, digits and '_'")
            }
            guard let value = entry.value.scalarText else {
                throw entry.value.error(
                    "\(entry.value.fieldDescription) must be a single value, not \(entry.value.kindDescription)",
                    hint: "quote it (\(entry.key): \"…\"); write \"\" for an empty value")
            }
            env.append((entry.key, value))
        }
        return env
    }

    static func parseSecrets(_ node: YAMLNode, env: [(key: String, value: String)]) throws -> [Job.SecretEntry] {
        var entries: [Job.SecretEntry] = []
        var firstLine: [String: Int] = [:]
        for item in try node.sequence() {
            let m = try item.mapping(allowedKeys: secretFields)
            let nameNode = try m.required("name", hint: "add the name the job sees, e.g. 'name: deploy_token'")
            let name = try nameNode.nonEmptyString()
            guard Job.SecretEntry.isValidName(name) else {
                let fixed = String(
                    name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "_" })
                let suggestion = Job.SecretEntry.isValidName(fixed) ? fixed : "_" + fixed
                throw nameNode.error(
                    "secret name '\(name)' must start with a letter or '_' and contain only letters, digits, '_', '.' and '-'",
                    hint: "use a name like '\(suggestion)'")
            }
            if let line = firstLine[name] {
                throw nameNode.error(
                    "secret name '\(name)' is used twice (first on line \(line))",
                    hint: "give every secret its own name")
            }
            firstLine[name] = nameNode.location.line ?? 0

            let sourceNode = try m.required(
                "source", hint: "add where it comes from: \(Job.SecretEntry.sourceSyntax)")
            let source = try sourceNode.nonEmptyString()
            do {
                _ = try Job.SecretEntry.parseSource(source)
            } catch let e as AirlockError {
                throw sourceNode.error("\(sourceNode.fieldDescription): \(e.message)", hint: e.hint)
            }

            var ttl: Double?
            if let n = m["ttl"] {
                let t = try n.duration()
                guard t > 0 else { throw n.error("\(n.fieldDescription) must be positive") }
                ttl = t
            }

            var delivery = Job.SecretEntry.Delivery.file
            if let n = m["delivery"] {
                delivery = Job.SecretEntry.Delivery(
                    rawValue: try n.oneOf(Job.SecretEntry.Delivery.allCases.map(\.rawValue)))!
            }
            if delivery == .env {
                guard isEnvName(name) else {
                    throw nameNode.error(
                        "secret '\(name)' is delivered as an environment variable but is not a valid variable name",
                        hint:
                            "use only letters, digits and '_' (e.g. '\(name.map { $0 == "." || $0 == "-" ? "_" : String($0) }.joined())'), or use 'delivery: file'"
                    )
                }
                if env.contains(where: { $0.key == name }) {
                    throw nameNode.error(
                        "secret '\(name)' is delivered as an environment variable that 'env' also sets",
                        hint: "remove '\(name)' from 'env', or rename the secret")
                }
            }
            entries.append(Job.SecretEntry(name: name, source: source, ttl: ttl, delivery: delivery))
        }
        return entries
    }

    static func isNameCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "." || c == "_" || c == "-")
    }

    static func isEnvName(_ s: String) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

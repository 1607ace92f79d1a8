/// A build job as written in a job file (`Examples/*/job.yaml`).
///
/// The job is plain data: `JobLoader` parses and validates it, and the sandbox runtime turns it
/// into launches. Paths in `inputs` are relative to the job file's directory unless absolute.
public struct Job: Hashable, Sendable {
    /// One step: a named `/bin/sh -e` script run in `/workspace`.
    public struct Step: Hashable, Sendable {
        /// When a step runs, given how the steps before it went.
        public enum When: String, Hashable, Sendable, CaseIterable {
            /// Only while every earlier step succeeded (the default).
            case onSuccess = "on_success"
            /// Only after an earlier step failed, timed out or was canceled gracefully.
            case onFailure = "on_failure"
            /// Whatever happened before (clean-up, GitLab's `after_script`), unless the job was
            /// aborted outright.
            case always
        }

        public var name: String
        public var run: String
        public var when: When
        /// This step's own wall-clock limit in seconds (within the job's); nil for none.
        public var timeout: Double?
        public init(name: String, run: String, when: When = .onSuccess, timeout: Double? = nil) {
            self.name = name
            self.run = run
            self.when = when
            self.timeout = timeout
        }
    }

    /// Resource limits requested by the job; `nil` means "the profile's default".
    public struct Resources: Hashable, Sendable {
        /// Memory limit in bytes.
        public var memory: UInt64?
        /// Maximum number of processes/threads.
        public var pids: Int?
        /// CPU limit in cores (e.g. 1.5).
        public var cpus: Double?
        /// Workspace size in bytes (also the cap on the outputs' data).
        public var workspace: UInt64?
        public init(memory: UInt64? = nil, pids: Int? = nil, cpus: Double? = nil, workspace: UInt64? = nil) {
            self.workspace = workspace
            self.memory = memory
            self.pids = pids
            self.cpus = cpus
        }
    }

    /// One `secrets:` entry: a secret the job needs, where it comes from and how it is delivered.
    ///
    /// Plain, validated data; the secrets layer turns it into a request for a broker. `source`
    /// is kept as written (`local:NAME`, `vault:PATH#FIELD`, `vault-dynamic:PATH[#FIELD]`);
    /// `SecretEntry.parseSource(_:)` splits it.
    public struct SecretEntry: Hashable, Sendable {
        /// How the secret reaches the job.
        public enum Delivery: String, Hashable, Sendable, CaseIterable {
            /// A file `/run/secrets/<name>` on a tmpfs inside the sandbox (the default).
            case file
            /// An environment variable named `<name>`.
            case env
        }

        /// The name the job sees: `[A-Za-z_][A-Za-z0-9_.-]*`, unique within the job.
        public var name: String
        /// Where the secret comes from, as written in the job file.
        public var source: String
        /// Requested lifetime in seconds; `nil` means "as long as the job may run".
        public var ttl: Double?
        public var delivery: Delivery

        public init(name: String, source: String, ttl: Double? = nil, delivery: Delivery = .file) {
            self.name = name
            self.source = source
            self.ttl = ttl
            self.delivery = delivery
        }
    }

    public var name: String
    /// Profile name (`default`, `strict`, …) or a path to a profile file.
    public var profile: String
    /// Files or directories copied into `/workspace` before the first step.
    public var inputs: [String]
    public var steps: [Step]
    /// Extra environment variables, in file order.
    public var env: [(key: String, value: String)]
    /// Paths or globs (relative to `/workspace`) collected after success.
    public var outputs: [String]
    /// Wall-clock limit for the whole job, in seconds.
    public var timeout: Double?
    public var resources: Resources
    /// Secrets the job needs, in file order.
    public var secrets: [SecretEntry]
    /// Fixed `SOURCE_DATE_EPOCH`; when `nil` the newest input mtime is used.
    public var sourceDateEpoch: Int64?
    /// The file the job came from (for messages and relative paths).
    public var sourceFile: String?
    /// Names in `env` whose values are secret (a coordinator's masked variables): they are
    /// hidden in the log and recorded in provenance by name only.
    public var maskedEnv: Set<String> = []

    public init(
        name: String, profile: String = "default", inputs: [String] = [], steps: [Step],
        env: [(key: String, value: String)] = [], outputs: [String] = [], timeout: Double? = nil,
        resources: Resources = .init(), secrets: [SecretEntry] = [], sourceDateEpoch: Int64? = nil,
        sourceFile: String? = nil
    ) {
        self.name = name
        self.profile = profile
        self.inputs = inputs
        self.steps = steps
        self.env = env
        self.outputs = outputs
        self.timeout = timeout
        self.resources = resources
        self.secrets = secrets
        self.sourceDateEpoch = sourceDateEpoch
        self.sourceFile = sourceFile
    }

    public static func == (a: Job, b: Job) -> Bool {
        a.name == b.name && a.profile == b.profile && a.inputs == b.inputs && a.steps == b.steps
            && a.env.map { "\($0.key)=\($0.value)" } == b.env.map { "\($0.key)=\($0.value)" }
            && a.outputs == b.outputs && a.timeout == b.timeout && a.resources == b.resources
            && a.secrets == b.secrets && a.sourceDateEpoch == b.sourceDateEpoch
    }

    public func hash(into h: inout Hasher) {
        h.combine(name)
        h.combine(steps)
    }
}

extension Job.SecretEntry {
    /// A `source` string split into its parts.
    public struct SourceParts: Hashable, Sendable {
        /// The source's scheme.
        public enum Kind: String, Hashable, Sendable, CaseIterable {
            /// `local:NAME` — the embedded store.
            case local
            /// `vault:PATH#FIELD` — a KV v2 value.
            case vault
            /// `vault-dynamic:PATH[#FIELD]` — a dynamic secret with a lease.
            case vaultDynamic = "vault-dynamic"
        }

        public var kind: Kind
        /// The store name for `local`, the `mount/…` path for the vault kinds.
        public var path: String
        /// The field after `#` (required for `vault`, optional for `vault-dynamic`, nil for `local`).
        public var field: String?

        public init(kind: Kind, path: String, field: String? = nil) {
            self.kind = kind
            self.path = path
            self.field = field
        }
    }

    /// The syntax of the three source forms, for hints.
    public static let sourceSyntax = "local:NAME, vault:MOUNT/PATH#FIELD or vault-dynamic:MOUNT/PATH[#FIELD]"

    /// Whether `name` is a valid secret name: `[A-Za-z_][A-Za-z0-9_.-]*` (ASCII). The same rule
    /// applies to names in the embedded store, so a name is always a safe file name.
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, isLetter(first) || first == UInt8(ascii: "_") else { return false }
        return bytes.allSatisfy {
            isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }

    /// Splits and validates a source string.
    ///
    /// - Throws: `AirlockError(.invalidFile)` whose message says what is wrong with `source`
    ///   (without a location; `JobLoader` adds it) and whose hint shows the right form.
    public static func parseSource(_ source: String) throws -> SourceParts {
        guard let colon = source.firstIndex(of: ":") else {
            throw AirlockError(
                .invalidFile, "secret source '\(source)' has no scheme",
                hint: "write \(sourceSyntax)\(isValidName(source) ? ", e.g. 'local:\(source)'" : "")")
        }
        let scheme = String(source[..<colon])
        let rest = String(source[source.index(after: colon)...])
        guard let kind = SourceParts.Kind(rawValue: scheme) else {
            let known = SourceParts.Kind.allCases.map(\.rawValue)
            let suggestion = Suggest.closest(to: scheme, in: known)
            throw AirlockError(
                .invalidFile,
                "secret source '\(source)' has an unknown scheme '\(scheme)'"
                    + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                hint: suggestion.map { "write '\($0):\(rest)'" } ?? "write \(sourceSyntax)")
        }
        switch kind {
        case .local:
            guard isValidName(rest) else {
                throw AirlockError(
                    .invalidFile,
                    "secret source '\(source)': '\(rest)' is not a valid store name",
                    hint: "store names start with a letter or '_' and contain only letters, digits, '_', '.' and '-'")
            }
            return SourceParts(kind: .local, path: rest)
        case .vault, .vaultDynamic:
            let path: String
            var field: String?
            if let hash = rest.firstIndex(of: "#") {
                path = String(rest[..<hash])
                field = String(rest[rest.index(after: hash)...])
            } else {
                path = rest
            }
            let example = kind == .vault ? "vault:secret/ci/deploy#token" : "vault-dynamic:database/creds/ci"
            let segments = path.split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count >= 2, !segments.contains(where: \.isEmpty) else {
                throw AirlockError(
                    .invalidFile,
                    "secret source '\(source)': the path '\(path)' must be '<mount>/<path>' with no empty parts",
                    hint: "write it like '\(example)' (no leading or trailing '/')")
            }
            if segments.contains(where: { $0 == "." || $0 == ".." }) {
                throw AirlockError(
                    .invalidFile, "secret source '\(source)': the path '\(path)' may not contain '.' or '..'",
                    hint: "write the full path from the mount, e.g. '\(example)'")
            }
            if path.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "%" }) {
                throw AirlockError(
                    .invalidFile, "secret source '\(source)': the path '\(path)' contains spaces, '?' or '%'",
                    hint: "write the path as OpenBao shows it, e.g. '\(example)'")
            }
            if kind == .vault, field == nil {
                throw AirlockError(
                    .invalidFile, "secret source '\(source)' names no field",
                    hint: "add the field after '#', e.g. 'vault:\(path)#password'")
            }
            if let f = field, f.isEmpty {
                throw AirlockError(
                    .invalidFile, "secret source '\(source)' has an empty field after '#'",
                    hint: kind == .vault
                        ? "name the field, e.g. 'vault:\(path)#password'"
                        : "name the field, or drop the '#' to receive the whole response as JSON")
            }
            return SourceParts(kind: kind, path: path, field: field)
        }
    }
}

import AirlockCore

extension SecretSource {
    /// Parses a source as written in a job (`local:NAME`, `vault:PATH#FIELD`,
    /// `vault-dynamic:PATH[#FIELD]`).
    /// - Throws: `AirlockError(.invalidFile)` naming the source and showing the right form.
    public init(parsing text: String) throws {
        let parts = try Job.SecretEntry.parseSource(text)
        switch parts.kind {
        case .local: self = .local(name: parts.path)
        case .vault: self = .vaultKV(path: parts.path, field: parts.field ?? "")
        case .vaultDynamic: self = .vaultDynamic(path: parts.path, field: parts.field)
        }
    }

    /// The source as a job writes it (`local:NAME`, `vault:PATH#FIELD`, …); used in leases and
    /// the access record. `SecretSource(parsing: s.sourceString) == s`.
    public var sourceString: String {
        switch self {
        case let .local(name): return "local:\(name)"
        case let .vaultKV(path, field): return "vault:\(path)#\(field)"
        case let .vaultDynamic(path, field): return "vault-dynamic:\(path)" + (field.map { "#\($0)" } ?? "")
        }
    }
}

extension SecretRequest {
    /// The request for one validated `secrets:` entry of a job.
    /// - Throws: `AirlockError(.invalidFile)` when the entry did not come from `JobLoader` and its
    ///   name or source is invalid.
    public init(entry: Job.SecretEntry) throws {
        guard Job.SecretEntry.isValidName(entry.name) else {
            throw AirlockError(
                .invalidFile, "secret name '\(entry.name)' is not valid",
                hint: "names start with a letter or '_' and contain only letters, digits, '_', '.' and '-'")
        }
        let delivery: SecretDelivery
        switch entry.delivery {
        case .file: delivery = .file
        case .env: delivery = .env
        }
        self.init(
            name: entry.name, source: try SecretSource(parsing: entry.source), ttl: entry.ttl, delivery: delivery)
    }
}

import AirlockCore
import Foundation

/// The agent's configuration file (YAML), as written by `airlock register` and read by
/// `airlock agent --config FILE`.
///
/// ```yaml
/// name: build-01                 # agent name (default: the host name); one agent per name per state dir
/// concurrency: 4                 # jobs run at once (default 1)
/// profile: default               # profile for jobs that do not name one
/// log_limit: 4MiB                # per job trace/log limit
/// metrics: 127.0.0.1:9252        # /metrics and /healthz; omit to disable
/// state_dir: /var/lib/airlock    # default: $AIRLOCK_STATE_DIR or the usual state directory
/// builder_id: urn:airlock:runner:build-01
/// spool: /srv/airlock/spool      # a local spool directory (or `gitlab:` below, not both)
/// gitlab:
///   url: https://gitlab.example.com
///   token: glrt-…                # the runner authentication token (or token_file:)
///   system_id: s_0123456789ab
///   poll_timeout: 60s            # client side limit of one long poll
///   images: {"debian:12": default}   # job `image:` → profile; other images are refused
/// ```
public struct AgentConfig: Sendable, Equatable {
    /// Where a GitLab-compatible coordinator is and how the agent authenticates.
    public struct GitLab: Sendable, Equatable {
        public var url: String
        /// The runner authentication token (`glrt-…`).
        public var token: String
        public var systemID: String
        public var pollTimeout: Double
        /// Job `image:` values the agent accepts, mapped to the profile that runs them.
        public var images: [String: String]

        public init(
            url: String, token: String, systemID: String, pollTimeout: Double = 60, images: [String: String] = [:]
        ) {
            self.url = url
            self.token = token
            self.systemID = systemID
            self.pollTimeout = pollTimeout
            self.images = images
        }
    }

    public var name: String
    public var concurrency: Int
    public var profile: String
    public var logLimit: UInt64
    /// `host:port` for the metrics endpoint, nil for none.
    public var metrics: String?
    public var stateDir: String?
    public var builderID: String?
    public var spool: String?
    /// Profiles a spool job may name (`spool_profiles`); empty means only `profile`.
    public var spoolProfiles: [String] = []
    /// Secrets a spool job may ask for (`spool_secrets`: `local:NAME` or a bare NAME, or a
    /// `vault:…` source as written); empty means none.
    public var spoolSecrets: [String] = []
    public var gitlab: GitLab?

    public init(
        name: String = AgentConfig.defaultName, concurrency: Int = 1, profile: String = "default",
        logLimit: UInt64 = 4 << 20, metrics: String? = nil, stateDir: String? = nil, builderID: String? = nil,
        spool: String? = nil, gitlab: GitLab? = nil
    ) {
        self.name = name
        self.concurrency = concurrency
        self.profile = profile
        self.logLimit = logLimit
        self.metrics = metrics
        self.stateDir = stateDir
        self.builderID = builderID
        self.spool = spool
        self.gitlab = gitlab
    }

    /// The host name, made safe for file names.
    public static var defaultName: String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "airlock"
        return String(host.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }

    static let fields = [
        "name", "concurrency", "profile", "log_limit", "metrics", "state_dir", "builder_id", "spool", "spool_profiles",
        "spool_secrets",
        "gitlab",
    ]
    static let gitlabFields = ["url", "token", "token_file", "system_id", "poll_timeout", "images"]

    /// Read and validate a config file. Unknown keys, a missing token and bad values are errors
    /// naming the file, line and key.
    public static func load(path: String) throws -> AgentConfig {
        let (root, _) = try YAMLReader.load(path: path)
        let map = try root.mapping(allowedKeys: fields)
        var c = AgentConfig()
        if let n = map["name"] {
            let name = try n.nonEmptyString()
            guard name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
                throw n.error("'name' may contain only letters, digits, '.', '_' and '-'", hint: "e.g. name: build-01")
            }
            c.name = name
        }
        if let n = map["concurrency"] {
            c.concurrency = try n.int()
            guard (1...256).contains(c.concurrency) else {
                throw n.error("'concurrency' must be between 1 and 256, not \(c.concurrency)")
            }
        }
        if let n = map["profile"] { c.profile = try n.nonEmptyString() }
        if let n = map["log_limit"] { c.logLimit = try n.byteSize() }
        if let n = map["metrics"] {
            let addr = try n.nonEmptyString()
            guard (try? parseHostPort(addr)) != nil else {
                throw n.error("'metrics' must be HOST:PORT, not '\(addr)'", hint: "e.g. metrics: 127.0.0.1:9252")
            }
            c.metrics = addr
        }
        if let n = map["state_dir"] { c.stateDir = try n.nonEmptyString() }
        if let n = map["builder_id"] { c.builderID = try n.nonEmptyString() }
        if let n = map["spool"] { c.spool = try n.nonEmptyString() }
        if let n = map["spool_profiles"] { c.spoolProfiles = try n.sequence().map { try $0.nonEmptyString() } }
        if let n = map["spool_secrets"] { c.spoolSecrets = try n.sequence().map { try $0.nonEmptyString() } }
        if let g = map["gitlab"] {
            let gm = try g.mapping(allowedKeys: gitlabFields)
            let url = try gm.required(
                "url", hint: "add the coordinator's address, e.g. url: https://gitlab.example.com"
            )
            .nonEmptyString()
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw g.error("'gitlab.url' must start with https:// (or http:// for loopback tests), not '\(url)'")
            }
            var token: String
            if let t = gm["token"] {
                token = try t.nonEmptyString()
            } else if let f = gm["token_file"] {
                let file = try f.nonEmptyString()
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw f.error("cannot read 'gitlab.token_file' \(file)", hint: "check the path and its permissions")
                }
                token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                throw g.error(
                    "missing required field 'gitlab.token'",
                    hint: "run `airlock register --url URL --token glrt-…` to write it, or add token_file:")
            }
            guard !token.isEmpty else { throw g.error("'gitlab.token' is empty") }
            let system = try gm["system_id"]?.nonEmptyString() ?? AgentConfig.makeSystemID()
            var images: [String: String] = [:]
            if let i = gm["images"] {
                for e in try i.mapping().entries { images[e.key] = try e.value.nonEmptyString() }
            }
            token = token.trimmingCharacters(in: .whitespaces)
            c.gitlab = GitLab(
                url: url, token: token, systemID: system, pollTimeout: try gm["poll_timeout"]?.duration() ?? 60,
                images: images)
        }
        if c.spool != nil && c.gitlab != nil {
            throw root.error(
                "the config sets both 'spool' and 'gitlab'", hint: "run one agent per job source: keep one of them")
        }
        return c
    }

    /// A random system id in GitLab's format (`s_` + 12 hex digits).
    public static func makeSystemID() -> String {
        "s_" + (0..<12).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }

    /// The config as YAML (what `register` writes).
    public func yaml() -> String {
        var out = "# Airlock agent configuration (airlock agent --config THIS_FILE). Keep it private: mode 0600.\n"
        out += "name: \(name)\nconcurrency: \(concurrency)\nprofile: \(profile)\nlog_limit: \(logLimit)\n"
        if let metrics { out += "metrics: \"\(metrics)\"\n" }
        if let stateDir { out += "state_dir: \(quoted(stateDir))\n" }
        if let builderID { out += "builder_id: \(quoted(builderID))\n" }
        if let spool { out += "spool: \(quoted(spool))\n" }
        if !spoolProfiles.isEmpty { out += "spool_profiles: [\(spoolProfiles.map(quoted).joined(separator: ", "))]\n" }
        if !spoolSecrets.isEmpty { out += "spool_secrets: [\(spoolSecrets.map(quoted).joined(separator: ", "))]\n" }
        if let g = gitlab {
            out += "gitlab:\n  url: \(quoted(g.url))\n  token: \(quoted(g.token))\n  system_id: \(g.systemID)\n"
            out += "  poll_timeout: \(Int(g.pollTimeout))s\n"
            if !g.images.isEmpty {
                out += "  images:\n"
                for (k, v) in g.images.sorted(by: { $0.key < $1.key }) { out += "    \(quoted(k)): \(quoted(v))\n" }
            }
        }
        return out
    }

    private func quoted(_ s: String) -> String { YAMLQuoting.doubleQuoted(s) }
}

/// Split `host:port` (IPv6 in brackets).
public func parseHostPort(_ text: String) throws -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port)
    else { throw AirlockError(.usage, "'\(text)' is not HOST:PORT", hint: "e.g. 127.0.0.1:9252") }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { throw AirlockError(.usage, "'\(text)' has no host", hint: "e.g. 127.0.0.1:9252") }
    return (host, port)
}

/// A file's name (a relative path like `dist/app.tar.gz`) and digests.
public struct FileDigest: Hashable, Sendable {
    /// The name recorded in provenance and the SBOM: a path relative to the workspace or output.
    public var name: String
    /// Lowercase hex SHA-256.
    public var sha256: String
    /// Lowercase hex SHA-1. SPDX 2.3 requires it for files; provenance does not use it.
    public var sha1: String?
    /// Size in bytes.
    public var size: UInt64

    /// A file digest; `sha1` only when an SPDX document needs it.
    public init(name: String, sha256: String, sha1: String? = nil, size: UInt64) {
        self.name = name
        self.sha256 = sha256
        self.sha1 = sha1
        self.size = size
    }
}

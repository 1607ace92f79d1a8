/// A profile as loaded: the flattened, validated `Profile`, warnings worth showing, and the exact
/// bytes of every file it was built from (base first), for hashing into provenance.
public struct LoadedProfile: Sendable {
    /// One file of the lineage.
    public struct Source: Hashable, Sendable {
        /// The profile's name.
        public var name: String
        /// The file as named in messages (`Profiles/default.yaml`, `<embedded>/default.yaml`).
        public var file: String
        /// The file's exact bytes.
        public var bytes: [UInt8]
        /// The bytes as text (the loader only accepts UTF-8).
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public var profile: Profile
    /// Things that did not stop loading but that a person should see (skipped unknown syscall
    /// names in an OCI import, a `name:` that differs from the file name, …).
    public var warnings: [String]
    /// Every file of the lineage, base first (same order as `profile.lineage`).
    public var sources: [Source]

    /// The text of every file of the lineage, base first.
    public var sourceText: [String] { sources.map(\.text) }
}

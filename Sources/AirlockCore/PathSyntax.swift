/// Purely lexical path helpers (no file-system access), shared by the job and profile loaders.
public enum PathSyntax {
    /// Whether `p` starts with `/`.
    public static func isAbsolute(_ p: String) -> Bool { p.hasPrefix("/") }

    /// The components of `p` without empty and `.` entries.
    public static func components(_ p: String) -> [String] {
        p.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
    }

    /// Whether any component of `p` is `..`.
    public static func hasParentReference(_ p: String) -> Bool {
        p.split(separator: "/").contains("..")
    }

    /// `p` with duplicate slashes, `.` components and trailing slashes removed, and `..`
    /// resolved lexically (`/a/b/../c/` → `/a/c`). A `..` above the root of an absolute path is
    /// dropped; above the start of a relative path it is kept.
    public static func normalized(_ p: String) -> String {
        let absolute = isAbsolute(p)
        var out: [String] = []
        for c in components(p) {
            if c == "..", let last = out.last, last != ".." {
                out.removeLast()
            } else if c == "..", absolute {
                continue
            } else {
                out.append(c)
            }
        }
        let joined = out.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Whether `p` is absolute and already in `normalized` form.
    public static func isNormalizedAbsolute(_ p: String) -> Bool {
        isAbsolute(p) && normalized(p) == p && !hasParentReference(p)
    }

    /// `rel` resolved against `base` (returned normalised); an absolute `rel` is kept.
    public static func resolve(_ rel: String, against base: String) -> String {
        isAbsolute(rel) ? normalized(rel) : normalized(base + "/" + rel)
    }

    /// The directory part of `p` (`a/b.yaml` → `a`, `b.yaml` → `.`).
    public static func directory(of p: String) -> String {
        guard let slash = p.lastIndex(of: "/") else { return "." }
        let dir = String(p[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// The last component of `p` (`a/b.yaml` → `b.yaml`).
    public static func lastComponent(_ p: String) -> String {
        components(p).last ?? p
    }

    /// Whether normalised absolute `p` equals `dir` or lies below it.
    public static func isWithin(_ p: String, _ dir: String) -> Bool {
        p == dir || dir == "/" || p.hasPrefix(dir + "/")
    }
}

import Glibc

/// Matches `outputs:` / `artifacts: paths:` patterns against a job-controlled tree by
/// descriptor, component by component, on the names that really exist there — never on the
/// text of a path. `.` and `..` are never listed, so no pattern (`.[.]`, `.*`) can climb out;
/// symlinks are never traversed, so no match lies outside the tree; a match is the list of real
/// names that lead to it.
///
/// Syntax per component is `fnmatch(3)` with `FNM_PERIOD` (`*` does not match a leading dot);
/// a component `**` matches any number of directories, as in GitLab's artifact paths.
public enum ConfinedGlob {
    /// A pattern that cannot be matched safely.
    public enum Failure: Error, Sendable {
        /// A literal component on the way is a symlink (`q` in `q/x` with `q -> r/s`).
        case throughSymlink(String)
        /// The pattern contains `..` or is empty.
        case invalid(String)
    }

    /// The matches of `pattern` below `root`, each as its list of names, sorted.
    public static func match(_ pattern: String, in root: ConfinedDirectory) throws -> [[String]] {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.isEmpty else { throw Failure.invalid("the pattern names no file") }
        guard !parts.contains("..") else { throw Failure.invalid("'..' is not allowed") }
        var found: [[String]] = []
        try walk(root, prefix: [], rest: parts[...], into: &found)
        var seen = Set<[String]>()
        return found.filter { seen.insert($0).inserted }.sorted {
            $0.joined(separator: "/").utf8.lexicographicallyPrecedes($1.joined(separator: "/").utf8)
        }
    }

    static func isPattern(_ component: String) -> Bool {
        component.contains { $0 == "*" || $0 == "?" || $0 == "[" || $0 == "\\" }
    }

    private static func walk(
        _ dir: ConfinedDirectory, prefix: [String], rest: ArraySlice<String>, into found: inout [[String]]
    ) throws {
        guard let component = rest.first else {
            found.append(prefix)
            return
        }
        let last = rest.count == 1
        if component == "**" {
            try walk(dir, prefix: prefix, rest: rest.dropFirst(), into: &found)
            for name in try dir.entries() where !name.hasPrefix(".") {
                guard let st = try dir.status(name), (st.st_mode & S_IFMT) == S_IFDIR else { continue }
                try walk(try dir.openDirectory(name), prefix: prefix + [name], rest: rest, into: &found)
            }
            return
        }
        let candidates: [String]
        if isPattern(component) {
            candidates = try dir.entries().filter { fnmatch(component, $0, 1 << 2) == 0 }  // FNM_PERIOD
        } else {
            candidates = [component]
        }
        for name in candidates {
            guard let st = try dir.status(name) else { continue }
            if last {
                found.append(prefix + [name])
                continue
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(try dir.openDirectory(name), prefix: prefix + [name], rest: rest.dropFirst(), into: &found)
            case S_IFLNK where !isPattern(component):
                throw Failure.throughSymlink((prefix + [name]).joined(separator: "/"))
            default:
                continue
            }
        }
    }
}

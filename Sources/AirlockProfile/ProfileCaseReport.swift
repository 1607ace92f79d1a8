import Foundation

/// The result of one case of `airlock profile test`.
public struct ProfileCaseResult: Sendable {
    public enum Outcome: String, Sendable {
        case pass = "PASS"
        case fail = "FAIL"
        /// A denied case whose control run (no seccomp filter) failed too: the case cannot tell
        /// whether the profile denied the call.
        case inconclusive = "INCONCLUSIVE"
        /// The case could not be run (a missing program, a sandbox that cannot start).
        case error = "ERROR"
    }
    public var name: String
    public var outcome: Outcome
    /// Why, in a sentence (empty for a plain pass).
    public var detail: String
    public var seconds: Double

    public init(name: String, outcome: Outcome, detail: String = "", seconds: Double = 0) {
        self.name = name
        self.outcome = outcome
        self.detail = detail
        self.seconds = seconds
    }
}

/// Renders results for people and, as JUnit XML, for CI systems.
public enum ProfileCaseReport {
    /// One line per case and a summary.
    public static func text(_ results: [ProfileCaseResult], profile: String) -> String {
        var out = ""
        for r in results {
            out += "\(r.outcome.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(r.name)"
            if !r.detail.isEmpty { out += "\n             \(r.detail)" }
            out += "\n"
        }
        let count = { (o: ProfileCaseResult.Outcome) in results.filter { $0.outcome == o }.count }
        out +=
            "\(profile): \(results.count) cases: \(count(.pass)) passed, \(count(.fail)) failed, \(count(.inconclusive)) inconclusive, \(count(.error)) errors\n"
        return out
    }

    /// JUnit XML (one testsuite): failures as `<failure>`, inconclusive and errored cases as `<error>`.
    public static func junit(_ results: [ProfileCaseResult], suite: String) -> String {
        let failures = results.filter { $0.outcome == .fail }.count
        let errors = results.filter { $0.outcome == .inconclusive || $0.outcome == .error }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites>\n"
        out +=
            "  <testsuite name=\"\(esc(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(String(format: "%.3f", total))\">\n"
        for r in results {
            out +=
                "    <testcase classname=\"\(esc(suite))\" name=\"\(esc(r.name))\" time=\"\(String(format: "%.3f", r.seconds))\""
            switch r.outcome {
            case .pass: out += "/>\n"
            case .fail:
                out += ">\n      <failure message=\"\(esc(r.detail))\">\(esc(r.detail))</failure>\n    </testcase>\n"
            case .inconclusive, .error:
                let msg = "\(r.outcome.rawValue.lowercased()): \(r.detail)"
                out += ">\n      <error message=\"\(esc(msg))\">\(esc(msg))</error>\n    </testcase>\n"
            }
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    static func esc(_ s: String) -> String {
        var o = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": o += "&amp;"
            case "<": o += "&lt;"
            case ">": o += "&gt;"
            case "\"": o += "&quot;"
            case "'": o += "&apos;"
            default:
                // XML 1.0 forbids most control characters, even escaped.
                if u.value < 0x20 && u != "\n" && u != "\t" && u != "\r" {
                    o += "?"
                } else {
                    o.unicodeScalars.append(u)
                }
            }
        }
        return o
    }
}

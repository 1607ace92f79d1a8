import Foundation

/// How `GitLabClient` retries a request that failed in a way worth retrying: a connection
/// error, HTTP 408, 429 or any 5xx.
///
/// The delay before attempt `n + 1` is `baseDelay · 2^(n-1)`, capped at `maxDelay`, then spread
/// by ±`jitter` (a fraction) so that many runners do not retry in step. When the answer carries
/// `Retry-After` (seconds or an HTTP date) or `RateLimit-ResetTime` (an HTTP date), that delay
/// is used instead (still capped at `maxDelay`).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (1 = never retry).
    public var maxAttempts: Int
    /// Delay before the first retry, in seconds.
    public var baseDelay: Double
    /// Largest delay between attempts, in seconds; also caps server-requested delays.
    public var maxDelay: Double
    /// Random spread applied to computed delays, as a fraction (0.2 = ±20 %).
    public var jitter: Double

    public init(maxAttempts: Int, baseDelay: Double, maxDelay: Double, jitter: Double = 0.2) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = max(0, baseDelay)
        self.maxDelay = max(0, maxDelay)
        self.jitter = min(max(0, jitter), 1)
    }

    /// 5 attempts, 1 s doubling to at most 60 s, ±20 %.
    public static let `default` = RetryPolicy(maxAttempts: 5, baseDelay: 1, maxDelay: 60, jitter: 0.2)
    /// No retries at all.
    public static let none = RetryPolicy(maxAttempts: 1, baseDelay: 0, maxDelay: 0, jitter: 0)

    /// The computed back-off before retry number `retry` (1-based), in seconds, jitter applied.
    public func backoff(retry: Int) -> Double {
        let exponent = Double(max(0, retry - 1))
        let raw = min(maxDelay, baseDelay * pow(2, exponent))
        guard jitter > 0, raw > 0 else { return raw }
        let spread = raw * jitter
        return min(maxDelay, max(0, raw + Double.random(in: -spread...spread)))
    }

    /// The delay a server asked for through `Retry-After` or `RateLimit-ResetTime`, in seconds,
    /// or nil when neither header is present or parses.
    public static func serverDelay(
        retryAfter: String?, rateLimitReset: String?, now: Date = Date()
    ) -> Double? {
        if let value = retryAfter?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
            if let seconds = Double(value), seconds >= 0 { return seconds }
            if let date = parseHTTPDate(value) { return max(0, date.timeIntervalSince(now)) }
        }
        if let value = rateLimitReset?.trimmingCharacters(in: .whitespaces), !value.isEmpty,
            let date = parseHTTPDate(value)
        {
            return max(0, date.timeIntervalSince(now))
        }
        return nil
    }

    /// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP servers send.
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

/// The one error type Airlock reports to people.
///
/// Every error names the object it is about (a file and line, a field, a path, a host), says what
/// went wrong, and — when it is known — how to fix it. `code` is an open set so new layers can add
/// their own codes without touching this file.
public struct AirlockError: Error, CustomStringConvertible, Sendable {
    /// An error code from the closed catalogue in `ErrorCatalogue.swift`: `area.name`, one
    /// namespace per area (`cli`, `file`, `host`, `sandbox`, `job`, `secret`, `vault`, `key`,
    /// `dsse`, `state`, `gitlab`, `airlock`). Codes are minted only there, so two spellings of
    /// one failure cannot coexist; callers compare codes, never their text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }
    }

    public var code: Code
    /// What went wrong, naming the object (file:line, field, path).
    public var message: String
    /// How to fix it, when known.
    public var hint: String?
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    public init(
        _ code: Code, _ message: String, hint: String? = nil, cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.hint = hint
        self.cause = cause
    }

    public var description: String {
        var s = message
        if let cause, !(cause is AirlockError) || "\(cause)" != message {
            s += " (\(cause))"
        }
        if let hint { s += "\n  fix: \(hint)" }
        return s
    }
}

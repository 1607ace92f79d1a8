/// The one error type Airlock reports to people.
///
/// Every error names the object it is about (a file and line, a field, a path, a host), says what
/// went wrong, and — when it is known — how to fix it. `code` is an open set so new layers can add
/// their own codes without touching this file.
public struct AirlockError: Error, CustomStringConvertible, Sendable {
    /// An extensible error code (`AirlockError.Code("profile.unknown-syscall")`).
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible,
        ExpressibleByStringLiteral
    {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
        public var description: String { rawValue }

        /// Bad input from the person at the keyboard: exit status 2.
        public static let usage: Code = "usage"
        /// A job, profile or config file that does not parse or validate.
        public static let invalidFile: Code = "invalid-file"
        /// A file or directory that does not exist or cannot be read.
        public static let missingFile: Code = "missing-file"
        /// The host lacks a kernel feature or permission Airlock needs.
        public static let hostUnsupported: Code = "host-unsupported"
        /// The sandbox could not be set up.
        public static let sandboxSetup: Code = "sandbox-setup"
        /// An internal invariant failed; a bug in Airlock.
        public static let internalError: Code = "internal"
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

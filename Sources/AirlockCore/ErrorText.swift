/// An underlying cause known only as text (e.g. a Foundation error's description).
public struct ErrorText: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ text: String) { self.description = text }
}

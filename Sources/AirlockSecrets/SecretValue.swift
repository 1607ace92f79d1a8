/// A secret's bytes, zeroed when the last reference goes away (or on `wipe()`).
///
/// Never printed: `description` is `[MASKED]`. Copy the bytes out only to hand them to the
/// sandbox (`withBytes`), and keep such copies short-lived.
public final class SecretValue: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    private var storage: [UInt8]

    public init(_ bytes: [UInt8]) { storage = bytes }
    public convenience init(_ text: String) { self.init(Array(text.utf8)) }

    /// Access the bytes without copying them out.
    public func withBytes<R>(_ body: ([UInt8]) throws -> R) rethrows -> R { try body(storage) }

    public var count: Int { storage.count }

    /// Overwrite the bytes with zeros now.
    public func wipe() {
        storage.withUnsafeMutableBufferPointer { buf in
            for i in buf.indices { buf[i] = 0 }
        }
        storage.removeAll()
    }

    deinit { wipe() }

    public var description: String { "[MASKED]" }
    public var debugDescription: String { "SecretValue([MASKED], \(storage.count) bytes)" }
}

import AirlockCore
import Foundation

/// Replaces secrets in a stream of log bytes with `[MASKED]`.
///
/// Feed the stream in order through `process(_:)` and call `flush()` at its end. Every
/// occurrence of a secret — and of its common encodings (base64 and base64url at every byte
/// alignment, URL encoding, hex, JSON escaping; see `patterns(for:)`) — is replaced, also when
/// it is split across chunks: the masker holds back the undecided tail of a chunk (never more
/// than the longest pattern minus one byte) until the next chunk or `flush()` decides it.
/// Overlapping or nested matches become a single `[MASKED]`.
///
/// Patterns shorter than `minimumPatternLength` bytes are ignored (see `patterns(for:)`).
///
/// Use one masker per stream: interleaving two streams through one masker would let a secret
/// split across them slip through. Calls are serialized internally, so a masker may be handed
/// between threads. The masker keeps its own copies of the patterns and zeroes them (and any
/// held-back bytes) when it is released.
///
/// Cost: one table lookup per byte, plus a comparison only where a byte can start a pattern;
/// held-back bytes (at most the longest pattern) are rescanned once per chunk.
public final class SecretMasker: @unchecked Sendable {
    /// What a masked region is replaced with.
    public static let replacement: [UInt8] = Array("[MASKED]".utf8)
    /// Patterns shorter than this are not masked.
    public static let minimumPatternLength = 4

    /// The patterns, each bucket (by first byte) sorted longest first.
    private var patterns: [[UInt8]]
    private var buckets: [[Int]]
    private var startsPattern: [Bool]
    /// The longest pattern's length.
    public let longestPattern: Int

    private let lock = NSLock()
    /// Bytes received but not yet decided (a possible start of a pattern).
    private var held: [UInt8] = []
    /// How many bytes at the start of `held` belong to a masked region already announced.
    private var swallow = 0

    /// A masker for `secrets` (their values are copied; wiping them later does not matter).
    public init(secrets: [SecretValue]) {
        var all = Set<[UInt8]>()
        for s in secrets {
            s.withBytes { bytes in
                for p in Self.patterns(for: bytes) { all.insert(p) }
            }
        }
        let list = Array(all)
        var buckets = [[Int]](repeating: [], count: 256)
        var starts = [Bool](repeating: false, count: 256)
        for (i, p) in list.enumerated() {
            buckets[Int(p[0])].append(i)
            starts[Int(p[0])] = true
        }
        for b in 0..<256 where !buckets[b].isEmpty {
            buckets[b].sort { list[$0].count > list[$1].count }
        }
        patterns = list
        self.buckets = buckets
        startsPattern = starts
        longestPattern = list.map(\.count).max() ?? 0
    }

    deinit {
        for i in patterns.indices { zeroize(&patterns[i]) }
        zeroize(&held)
    }

    /// Whether there is nothing to mask (no secret was long enough).
    public var isEmpty: Bool { patterns.isEmpty }

    /// Masks the next chunk of the stream. Returns the bytes that are decided so far; some of
    /// `chunk`'s tail may be held back and returned by a later call or by `flush()`.
    public func process(_ chunk: [UInt8]) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if patterns.isEmpty { return chunk }
        if held.isEmpty {
            return scan(chunk, final: false)
        }
        var buffer = held
        buffer.append(contentsOf: chunk)
        zeroize(&held)
        let out = scan(buffer, final: false)
        zeroize(&buffer)
        return out
    }

    /// Ends the stream: returns the held-back bytes, masked, and resets the masker.
    public func flush() -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        var buffer = held
        held = []
        let out = scan(buffer, final: true)
        zeroize(&buffer)
        held = []
        swallow = 0
        return out
    }

    /// Masks `buffer` (the held-back bytes followed by the new chunk). Unless `final`, stops at
    /// the first position where a pattern might still complete and keeps the rest in `held`.
    private func scan(_ buffer: [UInt8], final: Bool) -> [UInt8] {
        let n = buffer.count
        var out: [UInt8] = []
        out.reserveCapacity(n)
        // Bytes before `regionEnd` are inside a masked region already announced;
        // `runStart` is the first byte neither emitted nor masked.
        var regionEnd = swallow
        var runStart = swallow
        var stop = n
        buffer.withUnsafeBufferPointer { buf in
            var i = 0
            while i < n {
                let b = Int(buf[i])
                if startsPattern[b] {
                    var best = 0
                    var undecided = false
                    for index in buckets[b] {
                        let length = patterns[index].count
                        let matches = patterns[index].withUnsafeBufferPointer { p -> Bool in
                            let available = min(length, n - i)
                            return memcmp(buf.baseAddress! + i, p.baseAddress!, available) == 0
                        }
                        guard matches else { continue }
                        if i + length <= n {
                            best = length  // longest first: the first full match is the longest
                            break
                        }
                        // A pattern that continues past the end: the next chunk decides.
                        if !final {
                            undecided = true
                            break
                        }
                    }
                    if undecided {
                        stop = i
                        break
                    }
                    if best > 0 {
                        if i >= regionEnd {
                            if runStart < i { out.append(contentsOf: buf[runStart..<i]) }
                            out.append(contentsOf: Self.replacement)
                        }
                        regionEnd = max(regionEnd, i + best)
                        runStart = max(runStart, regionEnd)
                    }
                }
                i += 1
            }
            if runStart < stop { out.append(contentsOf: buf[runStart..<stop]) }
            held = stop < n ? Array(buf[stop..<n]) : []
        }
        swallow = max(0, regionEnd - stop)
        return out
    }
}

import AirlockCore
import Foundation

/// JSON encoding shared by the lease journal and the access record: one object per line,
/// keys sorted, dates as RFC 3339 UTC with milliseconds.
enum LeaseJSON {
    static func formatter() -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(formatter().string(from: date))
        }
        return e
    }

    static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            if let date = formatter().date(from: text) { return date }
            let plain = ISO8601DateFormatter()
            if let date = plain.date(from: text) { return date }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 date: \(text)")
        }
        return d
    }

    /// One line: the encoded value followed by `\n`.
    static func line<T: Encodable>(_ value: T) throws -> [UInt8] {
        Array(try encoder().encode(value)) + [0x0A]
    }

    /// The lines of a JSON-lines file, decoded; lines that do not decode (a line torn by a
    /// crash mid-write) are skipped and counted.
    static func lines<T: Decodable>(_ bytes: [UInt8], as: T.Type) -> (values: [T], skipped: Int) {
        let decoder = decoder()
        var values: [T] = []
        var skipped = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: true) {
            if (try? JSONStructureScan.check(Array(line), name: "journal", limits: .files)) != nil,
                let v = try? decoder.decode(T.self, from: Data(line))
            {
                values.append(v)
            } else {
                skipped += 1
            }
        }
        return (values, skipped)
    }
}

extension Lease {
    /// Identifies a lease across the journal: its broker and the broker's id.
    var key: String { "\(broker)\u{0}\(id)" }
}

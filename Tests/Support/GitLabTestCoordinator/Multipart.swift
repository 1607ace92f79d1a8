import Foundation

/// Just enough multipart/form-data parsing for artifact uploads.
enum Multipart {
    /// The part named `name`: its filename and content.
    static func file(named name: String, in body: [UInt8], contentType: String) -> (filename: String, bytes: [UInt8])? {
        guard let range = contentType.range(of: "boundary=") else { return nil }
        var boundary = String(contentType[range.upperBound...])
        if let semicolon = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semicolon]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        let delimiter = Array("--\(boundary)".utf8)
        var starts: [Int] = []
        var i = 0
        while let hit = find(delimiter, in: body, from: i) {
            starts.append(hit)
            i = hit + delimiter.count
        }
        for (index, start) in starts.enumerated() where index + 1 < starts.count {
            let partStart = start + delimiter.count + 2  // CRLF after the delimiter
            let partEnd = starts[index + 1] - 2  // CRLF before the next delimiter
            guard partStart < partEnd, let headerEnd = find(Array("\r\n\r\n".utf8), in: body, from: partStart),
                headerEnd < partEnd
            else { continue }
            let headers = String(decoding: body[partStart..<headerEnd], as: UTF8.self)
            guard headers.contains("name=\"\(name)\"") else { continue }
            var filename = ""
            if let f = headers.range(of: "filename=\"") {
                filename = String(headers[f.upperBound...].prefix { $0 != "\"" })
            }
            return (filename, Array(body[(headerEnd + 4)..<partEnd]))
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else {
            return nil
        }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }
}

/// CRC-32 (IEEE) computed bit by bit, independently of the runner's table-driven one.
func referenceChecksum(_ bytes: [UInt8]) -> String {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    let hex = String(crc ^ 0xFFFF_FFFF, radix: 16)
    return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
}

import Foundation

/// An RFC 5322 message or MIME body part (RFC 2045, RFC 2046): its header fields, unfolded, and its
/// body; multipart bodies split into their parts. Only what finding an attached report needs: no
/// header encodings (RFC 2047), and limits on depth and part count so a hostile message stays cheap.
struct MIMEEntity: Sendable {
    static let maxDepth = 8
    /// Parts in the whole message, at every depth.
    static let maxParts = 256

    /// Header fields in order, names lower-cased.
    var fields: [(name: String, value: String)]
    var body: ArraySlice<UInt8>

    init(parsing bytes: ArraySlice<UInt8>) throws(TLSReportError) {
        let (header, body) = Self.splitHeader(bytes)
        fields = try Self.unfold(header)
        self.body = body
    }

    /// The first field of this name, unfolded and trimmed.
    func field(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    func fields(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }

    /// The media type, lower case, and its parameters (names lower case, values unquoted); text/plain
    /// when absent (RFC 2045 §5.2).
    var contentType: (type: String, parameters: [String: String]) {
        guard let value = field("content-type") else { return ("text/plain", [:]) }
        return Self.parameterised(value)
    }

    /// The body with its Content-Transfer-Encoding undone.
    func decodedBody() throws(TLSReportError) -> [UInt8] {
        let encoding = (field("content-transfer-encoding") ?? "7bit").trimmingCharacters(in: .whitespaces).lowercased()
        switch encoding {
        case "base64":
            // Line breaks and other characters outside the alphabet are ignored (RFC 2045 §6.8).
            let alphabet = body.filter { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2B || byte == 0x2F || byte == 0x3D
            }
            // Senders that leave out the final padding are read too.
            var padded = Array(alphabet)
            if padded.count % 4 != 0 { padded += [UInt8](repeating: 0x3D, count: 4 - padded.count % 4) }
            guard let data = Data(base64Encoded: Data(padded)) else {
                throw TLSReportError(.invalid, "the report's base64 body is malformed")
            }
            return Array(data)
        case "quoted-printable":
            return Self.quotedPrintable(body)
        case "7bit", "8bit", "binary":
            return Array(body)
        default:
            throw TLSReportError(.invalid, "unknown Content-Transfer-Encoding \"\(encoding.prefix(40))\"")
        }
    }

    /// The parts of a multipart body (RFC 2046 §5.1): between `--boundary` lines, up to the closing
    /// `--boundary--`; preamble and epilogue ignored.
    func parts(budget: inout Int) throws(TLSReportError) -> [MIMEEntity] {
        guard let boundary = contentType.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 70 else {
            throw TLSReportError(.invalid, "a multipart part without a valid boundary parameter")
        }
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [MIMEEntity] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: 0x0A) ?? body.endIndex
            var line = body[lineStart..<lineEnd]
            if line.last == 0x0D { line = line.dropLast() }
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                let closing = rest.starts(with: [0x2D, 0x2D])
                // Only transport padding may follow the boundary.
                if rest.dropFirst(closing ? 2 : 0).allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    if let start = partStart {
                        // The CRLF before the delimiter belongs to the delimiter.
                        var end = lineStart
                        if end > start, body[end - 1] == 0x0A { end -= 1 }
                        if end > start, body[end - 1] == 0x0D { end -= 1 }
                        budget -= 1
                        guard budget >= 0 else { throw TLSReportError(.invalid, "the message has more than \(Self.maxParts) MIME parts") }
                        parts.append(try MIMEEntity(parsing: body[start..<end]))
                    }
                    if closing { return parts }
                    partStart = min(lineEnd + 1, body.endIndex)
                }
            }
            lineStart = lineEnd + 1
        }
        // No closing delimiter: what was read is used, as mail readers do.
        if let start = partStart, start < body.endIndex {
            budget -= 1
            guard budget >= 0 else { throw TLSReportError(.invalid, "the message has more than \(Self.maxParts) MIME parts") }
            parts.append(try MIMEEntity(parsing: body[start...]))
        }
        return parts
    }

    /// Every leaf of the MIME tree, depth first; at most `maxParts` parts in all.
    func leaves() throws(TLSReportError) -> [MIMEEntity] {
        var budget = Self.maxParts
        return try leaves(depth: 0, budget: &budget)
    }

    private func leaves(depth: Int, budget: inout Int) throws(TLSReportError) -> [MIMEEntity] {
        guard contentType.type.hasPrefix("multipart/") else { return [self] }
        guard depth < Self.maxDepth else { throw TLSReportError(.invalid, "MIME parts nest deeper than \(Self.maxDepth) levels") }
        var result: [MIMEEntity] = []
        for part in try parts(budget: &budget) { result += try part.leaves(depth: depth + 1, budget: &budget) }
        return result
    }

    // MARK: - Header syntax

    private static func splitHeader(_ bytes: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        var index = bytes.startIndex
        // A part may start with its blank line at once: no header fields.
        if bytes[index...].starts(with: [0x0D, 0x0A]) { return (bytes[index..<index], bytes[(index + 2)...]) }
        if bytes[index...].starts(with: [0x0A]) { return (bytes[index..<index], bytes[(index + 1)...]) }
        while index < bytes.endIndex {
            guard let newline = bytes[index...].firstIndex(of: 0x0A) else { break }
            let next = newline + 1
            if bytes[next...].starts(with: [0x0D, 0x0A]) { return (bytes[bytes.startIndex..<next], bytes[(next + 2)...]) }
            if bytes[next...].starts(with: [0x0A]) { return (bytes[bytes.startIndex..<next], bytes[(next + 1)...]) }
            index = next
        }
        return (bytes, bytes[bytes.endIndex...])
    }

    private static func unfold(_ header: ArraySlice<UInt8>) throws(TLSReportError) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for (number, rawLine) in header.split(separator: 0x0A, omittingEmptySubsequences: true).enumerated() {
            var line = rawLine
            if line.last == 0x0D { line = line.dropLast() }
            guard !line.isEmpty else { continue }
            // A saved mail's mbox separator ("From sender date"): not a header field.
            if number == 0, line.starts(with: Array("From ".utf8)) { continue }
            let text = String(decoding: line, as: UTF8.self)
            if line.first == 0x20 || line.first == 0x09 {
                // A continuation line (RFC 5322 §2.2.3).
                guard !fields.isEmpty else { throw TLSReportError(.invalid, "the message header starts with a continuation line") }
                fields[fields.count - 1].value += " " + text.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = text.firstIndex(of: ":") else {
                throw TLSReportError(.invalid, "a header line without a colon: \"\(text.prefix(60))\"")
            }
            fields.append((text[..<colon].trimmingCharacters(in: .whitespaces).lowercased(),
                           text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return fields
    }

    /// `type/subtype; name=value; name="quoted value"` (RFC 2045 §5.1).
    static func parameterised(_ value: String) -> (type: String, parameters: [String: String]) {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in value {
            if escaped { current.append(character); escaped = false; continue }
            if quoted && character == "\\" { escaped = true; continue }
            if character == "\"" { quoted.toggle(); continue }
            if character == ";" && !quoted { pieces.append(current); current = ""; continue }
            current.append(character)
        }
        pieces.append(current)
        let type = pieces.first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            if parameters[name] == nil { parameters[name] = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces) }
        }
        return (type, parameters)
    }

    private static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(body.count)
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == 0x3D {
                // A soft line break: "=", perhaps trailing white space (RFC 2045 §6.7 rule 3), then the line end.
                var afterSpace = body.index(after: index)
                while afterSpace < body.endIndex, body[afterSpace] == 0x20 || body[afterSpace] == 0x09 { afterSpace += 1 }
                if afterSpace < body.endIndex, body[afterSpace] == 0x0A { index = afterSpace + 1; continue }
                if afterSpace + 1 < body.endIndex, body[afterSpace] == 0x0D, body[afterSpace + 1] == 0x0A { index = afterSpace + 2; continue }
                // At the very end (the line end went to the multipart delimiter) it is a soft break too.
                if afterSpace == body.endIndex { break }
                let next = body.index(after: index)
                if next + 1 < body.endIndex, let high = hex(body[next]), let low = hex(body[next + 1]) {
                    output.append(high << 4 | low)
                    index = next + 2
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}

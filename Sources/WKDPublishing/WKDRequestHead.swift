/// One HTTP/1.1 request head read straight from the received bytes (RFC 9112), as much of it as the
/// publisher needs: the method, the path (without the query), the Host, `If-None-Match` and whether the
/// connection stays open. It exists so that serving a key allocates nothing for the parts of a request it
/// ignores: the fields are ranges into the bytes read, not strings.
///
/// The publisher accepts no request bodies: a `Content-Length` other than 0 or any `Transfer-Encoding` is
/// refused (413), so no body can be mistaken for the next request. Heads longer than `maximumSize` or with
/// more than `maximumFields` fields are refused (431; 414 when the request line alone is that long);
/// anything malformed is 400 — an HTTP/1.1 request without exactly one Host (RFC 9112 §3.2), whitespace
/// before a field's colon (§5.1), a folded line (§5.2), control characters, a malformed version (505 for
/// a well-formed one other than 1.x; 1.2 and later minor versions are read as 1.1).
struct WKDRequestHead: Equatable {
    enum Method: Equatable { case get, head, other }

    var method: Method
    /// The request target's path (origin form; the path of the absolute form), without `?` and the query.
    var path: Range<Int>
    /// The Host field's value, or the absolute form's authority; nil for an HTTP/1.0 request without one.
    var host: Range<Int>?
    var ifNoneMatch: Range<Int>?
    var keepAlive: Bool
    /// HTTP/1.0: a kept connection is said so in the answer (`Connection: keep-alive`).
    var isHTTP10: Bool

    static let maximumSize = 8_192
    static let maximumFields = 64

    enum Refusal: Error, Equatable {
        /// 400: malformed (the reason is for logs and tests).
        case badRequest(String)
        /// 413: a request body.
        case bodyNotAccepted
        /// 431: head or field count over the limits.
        case tooLarge
        /// 414: the request line alone is over the limit.
        case uriTooLong
        /// 505: a well-formed version other than 1.0 and 1.1.
        case versionNotSupported

        var statusLine: String {
            switch self {
            case .badRequest: "400 Bad Request"
            case .bodyNotAccepted: "413 Content Too Large"
            case .tooLarge: "431 Request Header Fields Too Large"
            case .uriTooLong: "414 URI Too Long"
            case .versionNotSupported: "505 HTTP Version Not Supported"
            }
        }
    }

    enum Outcome: Equatable {
        /// More bytes are needed (the head is not complete and under the limit).
        case incomplete
        /// A head, and how many bytes it took (the next request starts there).
        case request(WKDRequestHead, length: Int)
        case refused(Refusal)
    }

    /// Reads the head at the start of `bytes`. Empty lines before it are skipped (RFC 9112 §2.2); a bare LF
    /// ends a line as CRLF does. `scanned`: how many of these bytes an earlier call saw without finding the
    /// head's end (it was `.incomplete`), so that a head arriving a byte at a time is not searched again from its start.
    static func parse(_ bytes: UnsafeRawBufferPointer, scanned: Int = 0) -> Outcome {
        var start = 0
        while start < bytes.count, bytes[start] == cr || bytes[start] == lf { start += 1 }
        if start >= bytes.count { return start > maximumSize ? .refused(.tooLarge) : .incomplete }
        // The end of the head: an empty line.
        var end: Int?
        var index = max(start, scanned - 2)
        while index < bytes.count, index - start < maximumSize {
            if bytes[index] == lf {
                if index + 1 < bytes.count, bytes[index + 1] == lf { end = index + 2; break }
                if index + 2 < bytes.count, bytes[index + 1] == cr, bytes[index + 2] == lf { end = index + 3; break }
            }
            index += 1
        }
        guard let end else {
            guard bytes.count - start >= maximumSize else { return .incomplete }
            let lineEnds = bytes[start..<(start + maximumSize)].contains(lf)
            return .refused(lineEnds ? .tooLarge : .uriTooLong)
        }
        switch parseLines(bytes, from: start, to: end) {
        case .success(let head): return .request(head, length: end)
        case .failure(let refusal): return .refused(refusal)
        }
    }

    /// Convenience for tests and the fuzzer.
    static func parse(_ bytes: [UInt8]) -> Outcome {
        bytes.withUnsafeBytes { parse($0) }
    }

    private static func parseLines(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Result<WKDRequestHead, Refusal> {
        // The request line: method SP target SP version.
        let lineEnd = endOfLine(bytes, from: start)
        guard let firstSpace = (start..<lineEnd.content).first(where: { bytes[$0] == space }), firstSpace > start,
              (start..<firstSpace).allSatisfy({ isTokenCharacter(bytes[$0]) }) else { return .failure(.badRequest("request line: method")) }
        let targetStart = firstSpace + 1
        guard let secondSpace = (targetStart..<lineEnd.content).first(where: { bytes[$0] == space }), secondSpace > targetStart,
              (targetStart..<secondSpace).allSatisfy({ bytes[$0] > space && bytes[$0] < 0x7F }) else {
            return .failure(.badRequest("request line: target"))
        }
        let version = (secondSpace + 1)..<lineEnd.content
        let isHTTP11: Bool
        if equals(bytes, version, "HTTP/1.1") {
            isHTTP11 = true
        } else if equals(bytes, version, "HTTP/1.0") {
            isHTTP11 = false
        } else if version.count == 8, equals(bytes, version.lowerBound..<(version.lowerBound + 7), "HTTP/1."), isDigit(bytes[version.lowerBound + 7]) {
            // A later 1.x is read as 1.1, the highest we speak (RFC 9110 §2.5).
            isHTTP11 = true
        } else {
            let wellFormed = version.count == 8 && equals(bytes, version.lowerBound..<(version.lowerBound + 5), "HTTP/")
                && isDigit(bytes[version.lowerBound + 5]) && bytes[version.lowerBound + 6] == UInt8(ascii: ".") && isDigit(bytes[version.lowerBound + 7])
            return .failure(wellFormed ? .versionNotSupported : .badRequest("request line: version"))
        }
        let method: Method = equals(bytes, start..<firstSpace, "GET") ? .get : equals(bytes, start..<firstSpace, "HEAD") ? .head : .other

        // The target: origin form, or absolute form (whose authority is the host, RFC 9112 §3.2.2).
        var pathStart = targetStart
        var authority: Range<Int>?
        if bytes[targetStart] != slash {
            let schemeEnd = (targetStart..<secondSpace).first(where: { bytes[$0] == UInt8(ascii: ":") })
            guard let schemeEnd, schemeEnd + 2 < secondSpace, bytes[schemeEnd + 1] == slash, bytes[schemeEnd + 2] == slash,
                  equalsIgnoringCase(bytes, targetStart..<schemeEnd, "http") || equalsIgnoringCase(bytes, targetStart..<schemeEnd, "https")
            else { return .failure(.badRequest("request target: neither a path nor an http(s) URI")) }
            let authorityStart = schemeEnd + 3
            let authorityEnd = (authorityStart..<secondSpace).first(where: { bytes[$0] == slash || bytes[$0] == UInt8(ascii: "?") }) ?? secondSpace
            guard authorityEnd > authorityStart else { return .failure(.badRequest("request target: no host")) }
            authority = authorityStart..<authorityEnd
            pathStart = authorityEnd
        }
        let pathEnd = (pathStart..<secondSpace).first(where: { bytes[$0] == UInt8(ascii: "?") || bytes[$0] == UInt8(ascii: "#") }) ?? secondSpace

        // The fields.
        var host: Range<Int>?
        var hostCount = 0
        var ifNoneMatch: Range<Int>?
        var connectionClose = false
        var connectionKeepAlive = false
        var fields = 0
        var line = lineEnd.next
        while line < end {
            let fieldEnd = endOfLine(bytes, from: line)
            if fieldEnd.content == line { break }  // the empty line
            fields += 1
            if fields > maximumFields { return .failure(.tooLarge) }
            if bytes[line] == space || bytes[line] == tab { return .failure(.badRequest("folded field line")) }
            guard let colon = (line..<fieldEnd.content).first(where: { bytes[$0] == UInt8(ascii: ":") }), colon > line,
                  (line..<colon).allSatisfy({ isTokenCharacter(bytes[$0]) }) else {
                return .failure(.badRequest("field name"))
            }
            var valueStart = colon + 1
            var valueEnd = fieldEnd.content
            while valueStart < valueEnd, bytes[valueStart] == space || bytes[valueStart] == tab { valueStart += 1 }
            while valueEnd > valueStart, bytes[valueEnd - 1] == space || bytes[valueEnd - 1] == tab { valueEnd -= 1 }
            guard (valueStart..<valueEnd).allSatisfy({ bytes[$0] >= space && bytes[$0] != 0x7F || bytes[$0] == tab }) else {
                return .failure(.badRequest("control character in a field value"))
            }
            let name = line..<colon
            let value = valueStart..<valueEnd
            if equalsIgnoringCase(bytes, name, "host") {
                hostCount += 1
                host = value
            } else if equalsIgnoringCase(bytes, name, "if-none-match") {
                ifNoneMatch = value
            } else if equalsIgnoringCase(bytes, name, "connection") {
                forEachListElement(bytes, value) { element in
                    if equalsIgnoringCase(bytes, element, "close") { connectionClose = true }
                    if equalsIgnoringCase(bytes, element, "keep-alive") { connectionKeepAlive = true }
                }
            } else if equalsIgnoringCase(bytes, name, "content-length") {
                guard !value.isEmpty, value.allSatisfy({ isDigit(bytes[$0]) }) else { return .failure(.badRequest("Content-Length")) }
                if value.contains(where: { bytes[$0] != UInt8(ascii: "0") }) { return .failure(.bodyNotAccepted) }
            } else if equalsIgnoringCase(bytes, name, "transfer-encoding") {
                return .failure(.bodyNotAccepted)
            }
            line = fieldEnd.next
        }
        if isHTTP11, hostCount != 1 { return .failure(.badRequest(hostCount == 0 ? "no Host" : "several Host fields")) }
        if !isHTTP11, hostCount > 1 { return .failure(.badRequest("several Host fields")) }
        let keepAlive = isHTTP11 ? !connectionClose : connectionKeepAlive && !connectionClose
        return .success(WKDRequestHead(method: method, path: pathStart..<pathEnd, host: authority ?? host,
                                       ifNoneMatch: ifNoneMatch, keepAlive: keepAlive, isHTTP10: !isHTTP11))
    }

    /// Where the line starting at `start` ends: its content (before CR LF or LF) and the next line.
    private static func endOfLine(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (content: Int, next: Int) {
        var index = start
        while index < bytes.count, bytes[index] != lf { index += 1 }
        let content = index > start && bytes[index - 1] == cr ? index - 1 : index
        return (content, min(index + 1, bytes.count))
    }

    private static func forEachListElement(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var index = range.lowerBound
        while index < range.upperBound {
            while index < range.upperBound, bytes[index] == space || bytes[index] == tab || bytes[index] == UInt8(ascii: ",") { index += 1 }
            let start = index
            while index < range.upperBound, bytes[index] != UInt8(ascii: ",") { index += 1 }
            var end = index
            while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
            if end > start { body(start..<end) }
        }
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let pointer = text.utf8Start
        for offset in 0..<range.count where bytes[range.lowerBound + offset] != pointer[offset] { return false }
        return true
    }

    /// ASCII case-insensitive comparison with a lower-case `text`.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let pointer = text.utf8Start
        for offset in 0..<range.count where lowercased(bytes[range.lowerBound + offset]) != pointer[offset] { return false }
        return true
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// tchar of RFC 9110 §5.6.2.
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let slash = UInt8(ascii: "/")
}

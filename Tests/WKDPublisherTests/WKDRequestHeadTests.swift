import Testing
@testable import WKDPublishing

/// The publisher's reading of request heads from bytes (RFC 9112), and of WKD paths.
@Suite("WKD request heads")
struct WKDRequestHeadTests {
    /// The head's parts as strings, or the refusal.
    enum Read: Equatable {
        case incomplete
        case request(method: WKDRequestHead.Method, path: String, host: String?, ifNoneMatch: String?, keepAlive: Bool, length: Int)
        case refused(WKDRequestHead.Refusal)
    }

    func read(_ text: String) -> Read {
        let bytes = Array(text.utf8)
        switch WKDRequestHead.parse(bytes) {
        case .incomplete: return .incomplete
        case .refused(let refusal): return .refused(refusal)
        case .request(let head, let length):
            func string(_ range: Range<Int>?) -> String? { range.map { String(decoding: bytes[$0], as: UTF8.self) } }
            return .request(method: head.method, path: string(head.path)!, host: string(head.host), ifNoneMatch: string(head.ifNoneMatch),
                            keepAlive: head.keepAlive, length: length)
        }
    }

    @Test("A plain GET: path without the query, Host, If-None-Match, kept alive; the length of the head")
    func plain() {
        let text = "GET /.well-known/openpgpkey/hu/abc?l=Ada HTTP/1.1\r\nHost: Example.org:443\r\nIf-None-Match: \"x\" \r\nAccept: */*\r\n\r\n"
        #expect(read(text + "GET / HTTP/1.1\r\n") == .request(method: .get, path: "/.well-known/openpgpkey/hu/abc", host: "Example.org:443",
                                                            ifNoneMatch: "\"x\"", keepAlive: true, length: text.utf8.count))
    }

    @Test("HEAD, other methods, bare LF line ends, empty lines before the request line, header names in any case")
    func variants() {
        #expect(read("HEAD /p HTTP/1.1\nhOsT:x\n\n") == .request(method: .head, path: "/p", host: "x", ifNoneMatch: nil, keepAlive: true, length: 25))
        #expect(read("\r\n\r\nDELETE /p HTTP/1.1\r\nHost: x\r\n\r\n") == .request(method: .other, path: "/p", host: "x", ifNoneMatch: nil, keepAlive: true, length: 35))
        #expect(read("get /p HTTP/1.1\r\nHost: x\r\n\r\n") == .request(method: .other, path: "/p", host: "x", ifNoneMatch: nil, keepAlive: true, length: 28))
    }

    @Test("Connection: close ends an HTTP/1.1 connection; HTTP/1.0 ends unless it asks keep-alive, and may omit Host")
    func connections() {
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, close\r\n\r\n") == .request(
            method: .get, path: "/p", host: "x", ifNoneMatch: nil, keepAlive: false, length: 59))
        #expect(read("GET /p HTTP/1.0\r\n\r\n") == .request(method: .get, path: "/p", host: nil, ifNoneMatch: nil, keepAlive: false, length: 19))
        #expect(read("GET /p HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == .request(
            method: .get, path: "/p", host: nil, ifNoneMatch: nil, keepAlive: true, length: 43))
    }

    @Test("The absolute form's authority is the host, whatever the Host field says (RFC 9112 §3.2.2)")
    func absoluteForm() {
        #expect(read("GET http://openpgpkey.example.org/.well-known/x?y HTTP/1.1\r\nHost: other\r\n\r\n") == .request(
            method: .get, path: "/.well-known/x", host: "openpgpkey.example.org", ifNoneMatch: nil, keepAlive: true, length: 75))
        #expect(read("GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n") == .refused(.badRequest("request target: neither a path nor an http(s) URI")))
    }

    @Test("Incomplete heads wait for more bytes; past the size limit they are refused")
    func incomplete() {
        #expect(read("") == .incomplete)
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\n") == .incomplete)
        #expect(read("GET /p HTTP/1.1\r\nCookie: " + String(repeating: "a", count: WKDRequestHead.maximumSize)) == .refused(.tooLarge))
        #expect(read(String(repeating: "\r\n", count: WKDRequestHead.maximumSize)) == .refused(.tooLarge))
        let fields = (0...WKDRequestHead.maximumFields).map { "X-\($0): y\r\n" }.joined()
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\n\(fields)\r\n") == .refused(.tooLarge))
    }

    @Test("Malformed heads are 400", arguments: [
        ("GET /p HTTP/1.1\r\n\r\n", "no Host"),
        ("GET /p HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", "several Host fields"),
        ("GET /p HTTP/1.1\r\nHost : x\r\n\r\n", "field name"),
        ("GET /p HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "folded field line"),
        ("GET /p HTTP/1.1\r\nHost: x\u{01}\r\n\r\n", "control character in a field value"),
        ("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", "Content-Length"),
        ("GET  /p HTTP/1.1\r\nHost: x\r\n\r\n", "request line: target"),
        ("G(T /p HTTP/1.1\r\nHost: x\r\n\r\n", "request line: method"),
        ("GET /p HTTP/1.1 \r\nHost: x\r\n\r\n", "request line: version"),
        ("GET /p\r\nHost: x\r\n\r\n", "request line: target"),
        ("\u{01}\u{02} nonsense\r\n\r\n", "request line: method"),
    ])
    func malformed(text: String, reason: String) {
        #expect(read(text) == .refused(.badRequest(reason)))
    }

    @Test("Bodies are refused (413), Content-Length: 0 is not a body; other HTTP versions are 505")
    func bodiesAndVersions() {
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello") == .refused(.bodyNotAccepted))
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n") == .refused(.bodyNotAccepted))
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n") == .request(
            method: .get, path: "/p", host: "x", ifNoneMatch: nil, keepAlive: true, length: 47))
        #expect(read("GET /p HTTP/2.0\r\nHost: x\r\n\r\n") == .refused(.versionNotSupported))
        #expect(read("GET /p HTTP/1.2\r\n\r\n") == .refused(.badRequest("no Host")))
        #expect(read("GET /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n") == .refused(.badRequest("Content-Length")))
        #expect(read("GET /" + String(repeating: "a", count: WKDRequestHead.maximumSize)) == .refused(.uriTooLong))
    }

    @Test("Searching on from where an incomplete head left off finds the same end as searching from the start")
    func resumedSearch() {
        let text = Array("\r\nGET /p HTTP/1.1\r\nHost: x\r\n\r\nGET".utf8)
        let whole = WKDRequestHead.parse(text)
        for cut in 0..<text.count {
            guard case .incomplete = WKDRequestHead.parse(Array(text[..<cut])) else { continue }
            #expect(text.withUnsafeBytes { WKDRequestHead.parse($0, scanned: cut) } == whole, "cut at \(cut)")
        }
    }

    @Test("WKD paths: both methods, any case, ports and trailing dots, U-labels and percent-encoding; anything else is nothing")
    func paths() throws {
        let hash = "kei1q4tipxxu1yj79k9kfukdhfy631xe"
        #expect(WKDRequest(host: "Example.ORG:443", path: "/.well-known/openpgpkey/hu/\(hash.uppercased())") == .key(domain: "example.org", hash: hash))
        #expect(WKDRequest(host: "openpgpkey.example.org.", path: "/.well-known/openpgpkey/Example.org/HU/\(hash)") == .key(domain: "example.org", hash: hash))
        #expect(WKDRequest(host: "openpgpkey.example.org", path: "/.well-known/openpgpkey/example.org/policy") == .policy(domain: "example.org"))
        #expect(WKDRequest(host: "example.org", path: "/.well-known/openpgpkey/policy") == .policy(domain: "example.org"))
        #expect(WKDRequest(host: "openpgpkey.xn--bcher-kva.example", path: "/.well-known/openpgpkey/b%C3%BCcher.example/hu/\(hash)")
                == .key(domain: "xn--bcher-kva.example", hash: hash))
        #expect(WKDRequest(host: "openpgpkey.bücher.example", path: "/.well-known/openpgpkey/xn--bcher-kva.example/policy") == .policy(domain: "xn--bcher-kva.example"))
        for (host, path) in [
            ("openpgpkey.example.org", "/.well-known/openpgpkey/other.org/hu/\(hash)"),
            ("example.org", "/.well-known/openpgpkey/hu/\(hash)/more"),
            ("example.org", "/.well-known/openpgpkey/hu/\(hash.dropLast())l"),
            ("example.org", "/.well-known/openpgpkey/hu/\(hash)x"),
            ("example.org", "/.well-known/openpgpkey/a/b/c/d"),
            ("[::1]:80", "/.well-known/openpgpkey/policy"),
            ("exa mple.org", "/.well-known/openpgpkey/policy"),
            ("example.org", "/.well-known/openpgpkey/"),
            ("example.org", "/.well-known/OPENPGPKEY/policy"),
        ] {
            #expect(WKDRequest(host: host, path: path) == nil, "\(host) \(path)")
        }
    }
}

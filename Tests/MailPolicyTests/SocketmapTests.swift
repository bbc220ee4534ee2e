import MailPolicy
import Testing

/// Postfix's socketmap framing and messages (socketmap_table(5)).
@Suite("Socketmap protocol")
struct SocketmapTests {
    func parse(_ text: String) -> Socketmap.Parsed { Socketmap.parse(Array(text.utf8)) }

    @Test("A request: netstring of \"<name> <key>\"; pipelined bytes after it are left for the next one")
    func requests() {
        #expect(parse("23:postfix example.org.net,23:") == .request(.init(name: "postfix", key: "example.org.net"), length: 27))
        #expect(parse("27:postfix [mx.example.org]:25,") == .request(.init(name: "postfix", key: "[mx.example.org]:25"), length: 31))
        #expect(parse("") == .incomplete)
        #expect(parse("23:postfix exam") == .incomplete)
        #expect(parse("22") == .incomplete)
    }

    @Test("A framed request that is not \"<name> <key>\" is a bad request (PERM, the connection stays); broken framing closes it")
    func refusals() {
        #expect(parse("7:postfix,") == .badRequest("the request is not \"<name> <key>\"", length: 10))
        #expect(parse("2: x,") == .badRequest("the request is not \"<name> <key>\"", length: 5))
        for broken in ["x:abc,", "3:abcd", "03:abc,", ":abc,", "5000:", "99999999999:"] {
            guard case .broken = parse(broken) else { Issue.record("\(broken) is not refused as broken framing"); continue }
        }
        #expect(Socketmap.parse([UInt8(ascii: "3"), UInt8(ascii: ":"), 0xFF, 0x20, 0x41, UInt8(ascii: ",")])
                == .badRequest("the request is not UTF-8", length: 6))
    }

    @Test("Replies as Postfix reads them, cut to its 100,000-byte limit")
    func replies() {
        #expect(String(decoding: Socketmap.Reply.ok("secure match=mx.example.org servername=hostname").encoded, as: UTF8.self)
                == "50:OK secure match=mx.example.org servername=hostname,")
        #expect(String(decoding: Socketmap.Reply.notFound.encoded, as: UTF8.self) == "9:NOTFOUND ,")
        #expect(String(decoding: Socketmap.Reply.temp("DNS failure").encoded, as: UTF8.self) == "16:TEMP DNS failure,")
        #expect(String(decoding: Socketmap.Reply.perm("bad").encoded, as: UTF8.self) == "8:PERM bad,")
        #expect(Socketmap.Reply.ok(String(repeating: "x", count: 200_000)).encoded.count == "100000:".count + 100_000 + 1)
    }
}

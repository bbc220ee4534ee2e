import DNS
import Testing

/// The answer-section parser reads bytes that came from the network: malformed input is refused with a
/// reason, never read out of bounds or looped on.
@Suite("DNS message parsing")
struct DNSMessageTests {
    /// A response with one question and the given answer records (already encoded).
    static func message(answers: [[UInt8]], rcode: UInt8 = 0) -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0x81, 0x80 | rcode, 0, 1, 0, UInt8(answers.count), 0, 0, 0, 0]
        bytes += [3] + Array("www".utf8) + [7] + Array("example".utf8) + [0, 0, 1, 0, 1]
        for answer in answers { bytes += answer }
        return bytes
    }

    @Test("Compressed owner names and CNAME targets are followed")
    func compression() throws {
        // Owner: pointer to the question name at offset 12. CNAME target: "mail" + pointer to "example" (offset 16).
        let cname: [UInt8] = [0xC0, 12, 0, 5, 0, 1, 0, 0, 0x0E, 0x10, 0, 7, 4] + Array("mail".utf8) + [0xC0, 16]
        let message = try DNSMessage(bytes: Self.message(answers: [cname]))
        #expect(message.answers.count == 1)
        #expect(message.answers[0].owner == "www.example")
        #expect(message.answers[0].ttl == 3600)
        #expect(try CNAMERecord(rdata: message.answers[0].rdata, in: message).target == "mail.example")
    }

    @Test("A pointer that points forwards or at itself is refused")
    func pointerLoop() {
        let selfPointer: [UInt8] = [0xC0, 12 + 17, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 127, 0, 0, 1]
        #expect(throws: DNSMessage.ParseError.self) { try DNSMessage(bytes: Self.message(answers: [selfPointer])) }
    }

    @Test("Truncated messages are refused wherever they end")
    func truncation() {
        let a: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]
        let full = Self.message(answers: [a])
        #expect((try? DNSMessage(bytes: full)) != nil)
        for length in 0..<full.count {
            #expect(throws: DNSMessage.ParseError.self) { try DNSMessage(bytes: Array(full.prefix(length))) }
        }
    }

    @Test("Record data of the wrong size is refused by its record type")
    func wrongSizes() throws {
        let shortA: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 127, 0, 0]
        let message = try DNSMessage(bytes: Self.message(answers: [shortA]))
        #expect(throws: DNSMessage.ParseError.self) { try ARecord(rdata: message.answers[0].rdata, in: message) }
        let badTXT: [UInt8] = [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 5, 65]
        let txt = try DNSMessage(bytes: Self.message(answers: [badTXT]))
        #expect(throws: DNSMessage.ParseError.self) { try TXTRecord(rdata: txt.answers[0].rdata, in: txt) }
    }

    @Test("A TTL with the top bit set is read as zero (RFC 2181 §8)")
    func hugeTTL() throws {
        let a: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0x80, 0, 0, 1, 0, 4, 127, 0, 0, 1]
        #expect(try DNSMessage(bytes: Self.message(answers: [a])).answers[0].ttl == 0)
    }
}

@Suite("DNS names")
struct DNSNameTests {
    @Test("Text form: case folded, trailing dot dropped, escapes round-trip")
    func textForm() throws {
        #expect(try DNSName("_25._TCP.Mail.Example.ORG.").description == "_25._tcp.mail.example.org")
        #expect(try DNSName("a\\.b.example").labels.count == 2)
        #expect(try DNSName("a\\.b.example").description == "a\\046b.example")
        #expect(try DNSName("a\\046b.example") == DNSName("a\\.b.example"))
        #expect(DNSName.root.description == ".")
        #expect(try DNSName("mx.example.org").isSubdomain(of: "example.org"))
        #expect(try !DNSName("example.org").isSubdomain(of: "mx.example.org"))
    }

    @Test("Empty labels, long labels, long names and spaces are refused", arguments: [
        "a..b", ".a", String(repeating: "x", count: 64) + ".example",
        Array(repeating: String(repeating: "x", count: 63), count: 5).joined(separator: "."), "a b.example", "bücher.example", "a\\2",
    ])
    func refused(_ text: String) {
        #expect(throws: DNSName.ParseError.self) { try DNSName(text) }
    }
}

import CoreTestSupport
import DNS
import Foundation
import Logging
import MailPolicy
import Testing

@Suite("The milter protocol and a milter session deciding with SPF, DKIM and DMARC")
struct MilterSessionTests {
    static let s = "secure.palisade.example"

    static func packet(_ code: Character, _ data: [UInt8] = []) -> [UInt8] {
        let length = UInt32(data.count + 1)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), UInt8(ascii: code.unicodeScalars.first!)] + data
    }

    static func z(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    @Test("Commands parse from their wire form; partial packets wait; replies encode as libmilter's")
    func codec() throws {
        var bytes = Self.packet("O", [0, 0, 0, 6, 0, 0, 1, 0xFF, 0, 0x1F, 0xFF, 0xFF])
        bytes += Self.packet("C", Self.z("mail.example.org") + [UInt8(ascii: "4"), 0x1F, 0x90] + Self.z("192.0.2.1"))
        bytes += Self.packet("M", Self.z("<a@example.org>") + Self.z("SIZE=100"))
        bytes += Self.packet("L", Self.z("Subject") + Self.z(" hi"))
        bytes += Self.packet("B", Array("body\r\n".utf8))
        var commands: [MilterProtocol.Command] = []
        var rest = bytes[...]
        while let (command, length) = try MilterProtocol.parse(rest) {
            commands.append(command)
            rest = rest.dropFirst(length)
        }
        #expect(commands == [
            .optionNegotiation(version: 6, actions: 0x1FF, steps: 0x1FFFFF),
            .connect(hostname: "mail.example.org", address: "192.0.2.1", port: 8080),
            .mail(sender: "<a@example.org>", arguments: ["SIZE=100"]),
            .header(name: "Subject", value: Array(" hi".utf8)),
            .body(Array("body\r\n".utf8)),
        ])
        #expect(try MilterProtocol.parse(Self.packet("H", Self.z("x")).dropLast()) == nil, "a partial packet waits")
        // Header packets: a value that is empty, one without its final NUL, a name alone; a packet without a name is an error.
        #expect(try MilterProtocol.parse(Self.packet("L", Self.z("X-Empty") + [0])[...])?.0 == .header(name: "X-Empty", value: []))
        #expect(try MilterProtocol.parse(Self.packet("L", Self.z("X-A") + Array(" b".utf8))[...])?.0 == .header(name: "X-A", value: Array(" b".utf8)))
        #expect(try MilterProtocol.parse(Self.packet("L", Array("X-Alone".utf8))[...])?.0 == .header(name: "X-Alone", value: []))
        #expect(throws: MilterProtocol.ProtocolError.self) { try MilterProtocol.parse(Self.packet("L", [0] + Self.z("v"))[...]) }
        #expect(throws: MilterProtocol.ProtocolError.self) { try MilterProtocol.parse([0x10, 0, 0, 0, 0x42][...]) }
        #expect(throws: MilterProtocol.ProtocolError.self) { try MilterProtocol.parse(Self.packet("Z")[...]) }
        #expect(MilterProtocol.encode(.replyCode("550 5.7.1 no")) == Self.packet("y", Self.z("550 5.7.1 no")))
        #expect(MilterProtocol.encode(.insertHeader(index: 0, name: "A", value: " b")) == Self.packet("i", [0, 0, 0, 0] + Self.z("A") + Self.z(" b")))
        #expect(MilterProtocol.encode(.continue) == [0, 0, 0, 1, UInt8(ascii: "c")])
    }

    static func session() throws -> (MilterSession, DNSResolver) {
        let world = try TestWorld.current()
        let resolver = try world.resolver(logger: Logger(label: "palisade.test.milter"))
        let authenticator = MailAuthenticator(spf: SPFVerifier(resolver: resolver), dkim: DKIMVerifier(resolver: resolver),
                                              dmarc: DMARCEvaluator(resolver: resolver, sample: { 0 }),
                                              configuration: try .init(authservID: "mx.test.example"))
        return (MilterSession(authenticator: authenticator), resolver)
    }

    /// The replies at end of message for `signed` (a whole message) sent from 127.0.0.1 with `mailFrom`.
    static func run(_ text: String, mailFrom: String) async throws -> [MilterProtocol.Reply] {
        let (session, resolver) = try session()
        defer { resolver.close() }
        let negotiated = await session.handle(.optionNegotiation(version: 6, actions: 0x1FF, steps: 0x1FFFFF))
        #expect(negotiated == [.optionNegotiation(actions: MilterSession.wantedActions, steps: MilterSession.wantedSteps)])
        _ = await session.handle(.connect(hostname: "client.example", address: "127.0.0.1", port: 25))
        _ = await session.handle(.helo("client.example"))
        _ = await session.handle(.mail(sender: "<\(mailFrom)>", arguments: []))
        let (headers, body) = DKIMVerifierTests.split(text)
        for field in headers { _ = await session.handle(.header(name: field.name, value: field.bytes)) }
        _ = await session.handle(.endOfHeaders)
        _ = await session.handle(.body(body))
        return await session.handle(.endOfMessage)
    }

    static func message(from: String) -> String {
        DKIMVerifierTests.message.replacingOccurrences(of: "From: Alice <alice@dkim.secure.palisade.example>", with: "From: Alice <\(from)>")
    }

    @Test("A DKIM-aligned message is accepted with Authentication-Results at the top")
    func aligned() async throws {
        let replies = try await Self.run(try await DKIMVerifierTests.sign("rsa"), mailFrom: "bounce@spf-fail.\(Self.s)")
        guard case .insertHeader(0, "Authentication-Results", let value)? = replies.first else {
            Issue.record("no header first: \(replies)")
            return
        }
        #expect(value.hasPrefix(" mx.test.example;"))
        #expect(value.contains("spf=fail smtp.mailfrom=bounce@spf-fail.\(Self.s)"), "\(value)")
        #expect(value.contains("dkim=pass header.d=dkim.\(Self.s) header.s=rsa header.a=rsa-sha256"), "\(value)")
        #expect(value.contains("dmarc=pass (p=reject dis=NONE) header.from=dkim.\(Self.s)"), "\(value)")
        #expect(replies.last == .accept)
    }

    @Test("Header fields in 8-bit bytes that are not UTF-8 are hashed as received: dkimpy's signature over them passes, a changed byte is rejected")
    func eightBitHeaders() async throws {
        let subject = Array(" Caf".utf8) + [0xE9] + Array(" \r\n\tau lait".utf8)  // ISO-8859-1, folded
        let headers: [(String, [UInt8])] = [("From", Array(" Alice <alice@dkim.\(Self.s)>".utf8)), ("To", Array(" bob@example.org".utf8)), ("Subject", subject)]
        let body = Array("Hello.\r\n".utf8)
        var message: [UInt8] = []
        for (name, value) in headers { message += Array(name.utf8) + [0x3A] + value + [0x0D, 0x0A] }
        message += [0x0D, 0x0A] + body

        func dkim(_ fields: [(String, [UInt8])]) async throws -> String {
            let (session, resolver) = try Self.session()
            defer { resolver.close() }
            // On the wire as Postfix sends it: folded lines end in LF alone.
            var wire = Self.packet("O", [0, 0, 0, 6, 0, 0, 1, 0xFF, 0, 0x1F, 0xFF, 0xFF])
            wire += Self.packet("C", Self.z("client.example") + [UInt8(ascii: "4"), 0, 25] + Self.z("127.0.0.1"))
            wire += Self.packet("H", Self.z("client.example")) + Self.packet("M", Self.z("<a@spf-fail.\(Self.s)>"))
            for (name, value) in fields {
                var lf: [UInt8] = []
                for byte in value where byte != 0x0D { lf.append(byte) }
                wire += Self.packet("L", Self.z(name) + lf + [0])
            }
            wire += Self.packet("N") + Self.packet("B", body) + Self.packet("E")
            var rest = wire[...]
            var replies: [MilterProtocol.Reply] = []
            while let (command, length) = try MilterProtocol.parse(rest) {
                replies = await session.handle(command)
                rest = rest.dropFirst(length)
            }
            #expect(rest.isEmpty)
            guard case .insertHeader(0, "Authentication-Results", let value)? = replies.first else { return "no header first: \(replies)" }
            return value
        }
        // Both header canonicalizations: simple hashes the bytes exactly as sent (folding restored to CRLF).
        for canonicalization in ["relaxed", "simple"] {
            let signature = try await DKIMSigner.signatureField(message, key: "rsa", header: canonicalization)
            let colon = try #require(signature.firstIndex(of: ":"))
            let signed = [("DKIM-Signature", Array(signature[signature.index(after: colon)...].utf8.dropLast(2)))] + headers
            let passed = try await dkim(signed)
            #expect(passed.contains("dkim=pass header.d=dkim.\(Self.s) header.s=rsa"), "\(canonicalization): \(passed)")
            var changed = signed
            changed[3].1[4] = 0xE8
            // dkim.secure.palisade.example publishes p=reject: without the signature nothing authenticates it.
            let failed = try await dkim(changed)
            #expect(failed.contains("550 5.7.1 the DMARC policy of dkim.\(Self.s) rejects mail"), "\(canonicalization): \(failed)")
        }
    }

    @Test("p=reject without alignment is rejected with 550 5.7.1; sp=quarantine is quarantined; a DNS failure is 451")
    func dispositions() async throws {
        var replies = try await Self.run(Self.message(from: "alice@dmarc.\(Self.s)"), mailFrom: "alice@spf-fail.\(Self.s)")
        guard case .replyCode(let text)? = replies.first else { Issue.record("\(replies)"); return }
        #expect(text.hasPrefix("550 5.7.1 the DMARC policy of dmarc.\(Self.s) rejects"), "\(text)")
        replies = try await Self.run(Self.message(from: "alice@real.dmarc.\(Self.s)"), mailFrom: "")
        #expect(replies.count == 3 && replies[1] == .quarantine("DMARC policy of dmarc.\(Self.s): quarantine"), "\(replies)")
        replies = try await Self.run(Self.message(from: "alice@expired.palisade.example"), mailFrom: "a@spf-pass.\(Self.s)")
        guard case .replyCode(let temporary)? = replies.first else { Issue.record("\(replies)"); return }
        #expect(temporary.hasPrefix("451 4.7.5"), "\(temporary)")
        // SPF aligned is enough: MAIL FROM in the From domain's organisation, passing.
        replies = try await Self.run(Self.message(from: "alice@spf-pass.\(Self.s)"), mailFrom: "alice@spf-pass.\(Self.s)")
        #expect(replies.last == .accept, "\(replies)")
    }

    @Test("From tricks that show one domain and authenticate another are refused", arguments: [
        "Support:ceo@dmarc.secure.palisade.example;",                        // group syntax
        "=?utf-8?q?ceo@dmarc.secure.palisade.example?=",                      // an encoded word
        "<a@x.example; dmarc=pass header.from=dmarc.secure.palisade.example>", // Authentication-Results injection
        "ceo@dmarc.secure.palisade.example\u{200B}",                          // an invisible character
    ])
    func fromTricks(from: String) async throws {
        let text = "From: \(from)\r\nTo: bob@example.org\r\nSubject: x\r\n\r\nHello\r\n"
        let replies = try await Self.run(text, mailFrom: "a@spf-pass.\(Self.s)")
        guard case .replyCode(let reply)? = replies.first else { Issue.record("accepted: \(replies)"); return }
        #expect(reply.hasPrefix("550 5.7.1"), "\(reply)")
    }

    @Test("A second From written as \"From :\" counts; Authentication-Results claiming our authserv-id are deleted")
    func forgedFields() async throws {
        let signed = try await DKIMVerifierTests.sign("rsa")
        var replies = try await Self.run(signed.replacingOccurrences(of: "To: bob@example.org", with: "From : ceo@dmarc.\(Self.s)\r\nTo: bob@example.org"),
                                         mailFrom: "a@spf-fail.\(Self.s)")
        #expect(replies == [.replyCode("550 5.7.1 the message has 2 From header fields (RFC 7489 section 6.6.1)")], "\(replies)")
        let forged = "Authentication-Results: mx.test.example; dmarc=pass header.from=dmarc.\(Self.s)\r\n"
            + "Authentication-Results: other.example; dkim=pass\r\n"
            + "Authentication-Results: MX.TEST.EXAMPLE 1; spf=pass\r\n"
        replies = try await Self.run(forged + signed, mailFrom: "a@spf-fail.\(Self.s)")
        #expect(Array(replies.prefix(2)) == [.changeHeader(index: 3, name: "Authentication-Results", value: ""),
                                             .changeHeader(index: 1, name: "Authentication-Results", value: "")], "\(replies)")
        guard case .insertHeader(0, "Authentication-Results", let value)? = replies.dropFirst(2).first else { Issue.record("\(replies)"); return }
        #expect(!value.contains("\r"), "folded with LF alone")
        #expect(replies.last == .accept)
    }

    @Test("No From, two From fields, or From addresses in two domains: refused (RFC 7489 section 6.6.1)")
    func fromFields() async throws {
        let noFrom = Self.message(from: "x@dmarc.\(Self.s)").replacingOccurrences(of: "From: Alice <x@dmarc.\(Self.s)>\r\n", with: "")
        var replies = try await Self.run(noFrom, mailFrom: "a@spf-pass.\(Self.s)")
        #expect(replies == [.replyCode("550 5.7.1 the message has no From header field (RFC 7489 section 6.6.1)")], "\(replies)")
        replies = try await Self.run(Self.message(from: "a@spf-pass.\(Self.s)>, \"Bob, Jr\" <b@dkim.\(Self.s)"), mailFrom: "a@spf-pass.\(Self.s)")
        #expect(replies == [.replyCode("550 5.7.1 the From header field has addresses in 2 domains (RFC 7489 section 6.6.1)")], "\(replies)")
    }
}

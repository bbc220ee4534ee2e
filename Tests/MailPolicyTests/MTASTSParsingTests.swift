import Core
import MailPolicy
import Testing

/// MTA-STS TXT records and policy files read as RFC 8461 §3.1, §3.2 and §4.1 define them.
@Suite("MTA-STS records and policies")
struct MTASTSParsingTests {
    @Test("A TXT record: v=STSv1 first, one id of 1 to 32 letters and digits, extensions kept, whitespace around ';'")
    func records() throws {
        #expect(try MTASTSRecord.parse("v=STSv1; id=20160831085700Z;") == MTASTSRecord.parse("v=STSv1 ;id=20160831085700Z"))
        #expect(try MTASTSRecord.parse("v=STSv1; id=20160831085700Z;").id == "20160831085700Z")
        #expect(try MTASTSRecord.parse("v=STSv1; id=abc; ext_1.x=some-value").extensions == ["ext_1.x": "some-value"])
        for bad in ["v=STSv1;", "v=STSv1; id=", "v=STSv1; id=a-b", "v=STSv1; id=\(String(repeating: "a", count: 33))", "id=1; v=STSv1",
                    "v=STSv1; id=1; id=2", "v=STSv2; id=1", "v=STSv1; id=1; =x", "v=STSv1; id=1; x="] {
            #expect(throws: MTASTSError.self, "\(bad)") { try MTASTSRecord.parse(bad) }
        }
    }

    @Test("Discovery: other TXT records are ignored; none means no policy; two, or a malformed one, mean no usable policy")
    func discovery() throws {
        #expect(MTASTSRecord.discover(["v=spf1 -all", "v=STSv1; id=1"]) == .record(try MTASTSRecord.parse("v=STSv1; id=1")))
        #expect(MTASTSRecord.discover(["v=spf1 -all"]) == .none)
        #expect(MTASTSRecord.discover([]) == .none)
        guard case .unusable = MTASTSRecord.discover(["v=STSv1; id=1", "v=STSv1; id=2"]) else { Issue.record("two records"); return }
        guard case .unusable = MTASTSRecord.discover(["v=STSv1; id=not-ok"]) else { Issue.record("malformed"); return }
    }

    @Test("A policy: LF or CRLF, fields in any order, unknown fields ignored, several mx, the first of a repeated field, max_age capped at a year")
    func policies() throws {
        let policy = try MTASTSPolicy.parse(Array("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n".utf8))
        #expect(policy.mode == .enforce && policy.maxAge == 604_800 && policy.mx.map(\.description) == ["mail.example.com", "*.example.net"])
        let lf = try MTASTSPolicy.parse(Array("mode: testing\nversion: STSv1\nmax_age:86400\nmx: MX.Example.COM\nfuture_field: yes please".utf8))
        #expect(lf.mode == .testing && lf.mx.map(\.description) == ["mx.example.com"])
        #expect(try MTASTSPolicy.parse(Array("version: STSv1\nmode: none\nmax_age: 9999999999".utf8)).maxAge == MTASTSPolicy.maximumAge)
        // Of a repeated field (but mx) the first counts.
        #expect(try MTASTSPolicy.parse(Array("version: STSv1\nmode: testing\nmode: none\nmx: a.example\nmax_age: 5\nmax_age: 6".utf8))
                == MTASTSPolicy(mode: .testing, mx: [try MXPattern("a.example")], maxAge: 5))
    }

    @Test("Bad policies are refused with the reason", arguments: [
        ("mode: enforce\nmx: a.example\nmax_age: 1", "no version"),
        ("version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1", "is not STSv1"),
        ("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1", "not enforce, testing or none"),
        ("version: STSv1\nmode: enforce\nmax_age: 1", "names no mx"),
        ("version: STSv1\nmode: enforce\nmx: a.example", "no max_age"),
        ("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1", "not 1 to 10 digits"),
        ("version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1", "is not a host name"),
        ("version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1", "is not \"key: value\""),
    ])
    func badPolicies(text: String, reason: String) {
        #expect { try MTASTSPolicy.parse(Array(text.utf8)) } throws: { ($0 as? MTASTSError)?.description.contains(reason) == true }
    }

    @Test("Over 64 KiB or not UTF-8 is refused")
    func limits() {
        #expect(throws: MTASTSError.self) { try MTASTSPolicy.parse(Array(repeating: UInt8(ascii: "x"), count: MTASTSPolicy.maximumSize + 1)) }
        #expect(throws: MTASTSError.self) { try MTASTSPolicy.parse([0xFF, 0xFE]) }
    }

    @Test("mx patterns: exact names, and a wildcard for exactly one leftmost label (RFC 8461 §4.1)")
    func matching() throws {
        let policy = try MTASTSPolicy.parse(Array("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1".utf8))
        for (host, allowed) in [("mail.example.com", true), ("MAIL.example.com.", true), ("mx1.example.net", true), ("example.net", false),
                                ("a.b.example.net", false), ("other.example.com", false)] {
            #expect(policy.allows(try DomainName(host)) == allowed, "\(host)")
        }
    }
}

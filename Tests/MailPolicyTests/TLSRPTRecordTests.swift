import MailPolicy
import Testing

/// `_smtp._tls` TXT records as RFC 8460 §3 defines them.
@Suite("TLSRPT records")
struct TLSRPTRecordTests {
    @Test("The RFC's examples; several rua, white space around the delimiters, extensions kept")
    func records() throws {
        #expect(try TLSRPTRecord.parse("v=TLSRPTv1;rua=mailto:reports@example.com").destinations == [.mail("reports@example.com")])
        #expect(try TLSRPTRecord.parse("v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt").destinations == [.https("https://reporting.example.com/v1/tlsrpt")])
        let both = try TLSRPTRecord.parse("v=TLSRPTv1 ; rua=mailto:tlsrpt@example.net , https://reports.example.net:8443/v1/tlsrpt ; ext_1=x;")
        #expect(both.destinations == [.mail("tlsrpt@example.net"), .https("https://reports.example.net:8443/v1/tlsrpt")])
        #expect(both.extensions == ["ext_1": "x"])
        // RFC 6068 mailto: headers after "?", several addresses joined by an encoded comma.
        #expect(try TLSRPTRecord.parse("v=TLSRPTv1; rua=mailto:tlsrpt@example.net?subject=report").destinations == [.mail("tlsrpt@example.net")])
        #expect(try TLSRPTRecord.parse("v=TLSRPTv1; rua=mailto:a@example.net%2Cb@example.net").destinations == [.mail("a@example.net")])
    }

    @Test("Refused: no rua, two rua, another scheme, a bare address, a space inside a URI, not v=TLSRPTv1 first",
          arguments: ["v=TLSRPTv1;", "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "v=TLSRPTv1; rua=http://example.com/r",
                      "v=TLSRPTv1; rua=postmaster@example.com", "v=TLSRPTv1; rua=mailto:a@example.com,", "v=TLSRPTv1; rua=https://exa mple.com/",
                      "rua=mailto:a@example.com; v=TLSRPTv1", "v=TLSRPTv2; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:not-an-address",
                      "v=TLSRPTv1; rua=https:///path", "v=TLSRPTv1; rua=https://example.com:abc/r"])
    func refused(_ text: String) {
        #expect(throws: MTASTSError.self, "\(text)") { try TLSRPTRecord.parse(text) }
    }

    @Test("Discovery: other TXT records ignored; none means no reports wanted; two mean none may be used")
    func discovery() throws {
        #expect(TLSRPTRecord.discover(["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.com"]) == .record(try TLSRPTRecord.parse("v=TLSRPTv1; rua=mailto:a@example.com")))
        #expect(TLSRPTRecord.discover(["v=spf1 -all"]) == .none)
        guard case .unusable = TLSRPTRecord.discover(["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"]) else {
            Issue.record("two records")
            return
        }
    }
}

import Core
import Testing

@Suite("Domain names")
struct DomainNameTests {
    @Test("normalised to lower-case A-labels without a trailing dot", arguments: [
        ("Example.ORG.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("пример.испытание", "xn--e1afmkfd.xn--80akhbyknj4f"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
    ])
    func normalised(input: String, expected: String) throws {
        #expect(try DomainName(input).ascii == expected)
    }

    @Test("decoded back to Unicode for display")
    func unicode() throws {
        #expect(try DomainName("xn--bcher-kva.example").unicode == "bücher.example")
    }

    @Test("invalid names are refused with a reason", arguments: [
        "", "localhost", "a..b", "-a.example", "a-.example", "ab--c.example", "exa mple.org", "a_b.example",
        "192.0.2.1", "xn--zz.example", String(repeating: "a", count: 64) + ".example",
        (0..<50).map { _ in "abcd" }.joined(separator: ".") + ".example", "emoji😀.example",
    ])
    func refused(input: String) {
        #expect(throws: DomainName.ParseError.self) { try DomainName(input) }
    }

    @Test("subdomains")
    func subdomain() throws {
        #expect(try DomainName("mail.example.org").isSubdomain(of: DomainName("example.org")))
        #expect(try !DomainName("badexample.org").isSubdomain(of: DomainName("example.org")))
    }
}

@Suite("E-mail addresses")
struct EmailAddressTests {
    @Test("parsed and normalised", arguments: [
        ("Alice@Example.ORG", "Alice", "alice@example.org"),
        ("\"john.doe\"@example.org", "john.doe", "john.doe@example.org"),
        ("user+tag@bücher.example", "user+tag", "user+tag@xn--bcher-kva.example"),
        ("\"with space\"@example.org", "\"with space\"", "\"with space\"@example.org"),
        ("ñandú@example.org", "ñandú", "ñandú@example.org"),
        ("!#$%&'*+-/=?^_`{|}~@example.org", "!#$%&'*+-/=?^_`{|}~", "!#$%&'*+-/=?^_`{|}~@example.org"),
    ])
    func parsed(input: String, localPart: String, canonical: String) throws {
        let address = try EmailAddress(input)
        #expect(address.localPart == localPart)
        #expect(address.canonical == canonical)
    }

    @Test("identity ignores case, so one address cannot be registered twice")
    func caseInsensitiveIdentity() throws {
        #expect(try EmailAddress("Alice@example.org") == EmailAddress("alice@EXAMPLE.org"))
        #expect(try Set([EmailAddress("A@x.example"), EmailAddress("a@x.example")]).count == 1)
    }

    @Test("invalid addresses are refused", arguments: [
        "", "no-at-sign", "@example.org", "alice@", "alice@[192.0.2.1]", "al..ice@example.org", ".alice@example.org",
        "alice.@example.org", "al ice@example.org", "al\"ice@example.org", "\"unterminated@example.org",
        String(repeating: "a", count: 65) + "@example.org", "alice@localhost", "alice@exa_mple.org",
    ])
    func refused(input: String) {
        #expect(throws: EmailAddress.ParseError.self) { try EmailAddress(input) }
    }
}

@Suite("Fingerprints")
struct FingerprintTests {
    @Test("v4 and v6 fingerprints parse from common spellings")
    func parse() throws {
        let v4 = try Fingerprint("0xeb85 bb5f a33a 75e1 5e94  4e63 f231 550c 4f47 e38e")
        #expect(v4.hex == "EB85BB5FA33A75E15E944E63F231550C4F47E38E")
        #expect(v4.version == 4)
        #expect(v4.keyID == "F231550C4F47E38E")
        let v6 = try Fingerprint("cb186c4f0609a697e4d52dfa6c722b0c1f1e27c18a56708f6525ec27bad9acc9")
        #expect(v6.version == 6)
        #expect(v6.keyID == "CB186C4F0609A697")
    }

    @Test("wrong lengths and non-hex are refused", arguments: ["", "ABCD", String(repeating: "G", count: 40), String(repeating: "A", count: 41)])
    func refused(input: String) {
        #expect(throws: Fingerprint.ParseError.self) { try Fingerprint(input) }
    }
}

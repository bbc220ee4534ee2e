import Core
import MailPolicy
import Testing

@Suite("DMARC records (RFC 7489 section 6.3, RFC 9989 tags)")
struct DMARCRecordTests {
    @Test("A full record: every tag read, white space around = and ; allowed, size limits removed, unknown tags ignored")
    func full() throws {
        let record = try DMARCRecord.parse("v=DMARC1; p = reject ;sp=quarantine; np=reject; adkim=s; aspf=r; pct=50; t=y; psd=n; "
                                           + "rua=mailto:a@example.org!10m, mailto:b@example.net; ruf=mailto:f@example.org; fo=1:d; ri=3600; zz=anything;")
        #expect(record.policy == .reject)
        #expect(record.subdomainPolicy == .quarantine)
        #expect(record.nonexistentPolicy == .reject)
        #expect(record.dkimAlignment == .strict && record.spfAlignment == .relaxed)
        #expect(record.percent == 50 && record.testing && record.publicSuffixDomain == "n")
        #expect(record.aggregateReports == ["mailto:a@example.org", "mailto:b@example.net"])
        #expect(record.failureReports == ["mailto:f@example.org"])
        #expect(record.failureOptions == ["1", "d"] && record.reportInterval == 3600)
    }

    @Test("Tag names and keyword values are case-insensitive, DMARC1 is not (RFC 7489's ABNF)")
    func caseRules() throws {
        let record = try DMARCRecord.parse("V=DMARC1; P=Reject; SP=none; ADKIM=S; FO=D:1")
        #expect(record.policy == .reject && record.subdomainPolicy == DMARCRecord.Policy.none && record.dkimAlignment == .strict)
        #expect(record.failureOptions == ["d", "1"])
        #expect(DMARCRecord.discover(["V = DMARC1; p=none"]) != .none)
    }

    @Test("Defaults: relaxed alignment, pct 100, no test mode, one report a day")
    func defaults() throws {
        let record = try DMARCRecord.parse("v=DMARC1; p=none")
        #expect(record.policy == DMARCRecord.Policy.none && record.subdomainPolicy == nil)
        #expect(record.dkimAlignment == .relaxed && record.percent == 100 && !record.testing && record.reportInterval == 86_400)
        #expect(try DMARCRecord.parse("v=DMARC1; rua=mailto:x@example.org").policy == nil, "no p: the caller decides (RFC 7489 section 6.6.3)")
    }

    @Test("Malformed records are refused with the tag named", arguments: [
        ("p=reject; v=DMARC1", "does not start with v=DMARC1"),
        ("v=DMARC2; p=reject", "does not start with v=DMARC1"),
        ("v=dmarc1; p=reject", "does not start with v=DMARC1"),
        ("v=DMARC1; p=reject; P=none", "tag p appears more than once"),
        ("v=DMARC1; p=bogus", "p=bogus is not none, quarantine or reject"),
        ("v=DMARC1; p=reject; p=none", "tag p appears more than once"),
        ("v=DMARC1; p=reject; pct=101", "pct=101 is not a number from 0 to 100"),
        ("v=DMARC1; p=reject; pct=-1", "pct=-1 is not a number"),
        ("v=DMARC1; p=reject; adkim=x", "adkim=x is not r or s"),
        ("v=DMARC1; p=reject; fo=2", "fo=2 is not a list"),
        ("v=DMARC1; p=reject; rua=dmarc@example.org", "is not a URI"),
        ("v=DMARC1; p=reject; rua=mailto:a@example.org!big", "invalid size limit"),
        ("v=DMARC1; p=reject; broken", "is not tag=value"),
        ("v=DMARC1; p=reject\u{0}", "control characters"),
    ])
    func malformed(text: String, expected: String) {
        #expect {
            _ = try DMARCRecord.parse(text)
        } throws: { error in
            (error as? DMARCRecordError)?.description.contains(expected) == true
        }
    }

    @Test("Discovery: only v=DMARC1 records count, two of them mean none applies, our own records are read strictly")
    func discovery() {
        #expect(DMARCRecord.discover(["v=spf1 -all", "hello"]) == .none)
        guard case .record(let record) = DMARCRecord.discover(["v=spf1 -all", "v=DMARC1; p=quarantine"]) else {
            Issue.record("one DMARC record among others is found")
            return
        }
        #expect(record.policy == .quarantine)
        #expect(DMARCRecord.discover(["v=DMARC1; p=reject", "v = DMARC1; p=none"]) == .several(2))
        #expect(DMARCRecord.discover(["v=DMARC1; p=reject", "v = DMARC1; p=none"]).problem?.contains("2 TXT records") == true)
        // Strictly (our own records): every mistake is named.
        guard case .malformed(let why) = DMARCRecord.discover(["v=DMARC1; p=rejectt; rua=mailto:d@example.org"]) else {
            Issue.record("a bad p is named")
            return
        }
        #expect(why.contains("p=rejectt is not none, quarantine or reject"))
    }

    @Test("As a receiver reads a sender's record: a typo outside the policy tags falls back to the default, an invalid policy is p=none only with a rua")
    func receiverReading() throws {
        func read(_ text: String, knowsNP: Bool = true) -> DMARCRecord.Discovery { DMARCRecord.discover([text], asReceiver: true, knowsNP: knowsNP) }
        // A rua without a scheme is dropped, and the policy stands (RFC 7489 section 6.3: errors outside p fall back).
        guard case .record(let record) = read("v=DMARC1; p=reject; rua=dmarc@example.com") else { Issue.record("a bad rua voids nothing"); return }
        #expect(record.policy == .reject && record.aggregateReports.isEmpty)
        guard case .record(let typos) = read("v=DMARC1; p=reject; adkim=x; pct=abc; fo=9; junk; p=none; rua=mailto:a@example.org,bad") else {
            Issue.record("typos fall back to defaults"); return
        }
        #expect(typos.policy == .reject && typos.dkimAlignment == .relaxed && typos.percent == 100 && typos.aggregateReports == ["mailto:a@example.org"])
        // RFC 7489 section 6.6.3 step 6: an invalid p, sp or np, or no p, with a valid rua: p=none, nothing else.
        guard case .record(let lenient) = read("v=DMARC1; p=reject; sp=quarantin; rua=mailto:d@example.org") else { Issue.record("invalid sp with rua"); return }
        #expect(lenient.policy == DMARCRecord.Policy.none && lenient.subdomainPolicy == nil && lenient.aggregateReports == ["mailto:d@example.org"])
        guard case .record(let noP) = read("v=DMARC1; sp=reject; rua=mailto:d@example.org") else { Issue.record("no p with rua"); return }
        #expect(noP.policy == DMARCRecord.Policy.none && noP.subdomainPolicy == nil)
        // Without a rua: an invalid policy is malformed, a missing p leaves no policy (sp does not stand in).
        guard case .malformed(let why) = read("v=DMARC1; p=bogus") else { Issue.record("p=bogus without rua is malformed"); return }
        #expect(why.contains("p=bogus is not none, quarantine or reject"))
        guard case .record(let none) = read("v=DMARC1; sp=reject") else { Issue.record("no p, no rua"); return }
        #expect(none.policy == nil && none.subdomainPolicy == nil)
        // np is RFC 9989's: an RFC 7489 reader ignores it, whatever it says.
        guard case .malformed = read("v=DMARC1; p=reject; np=bogus") else { Issue.record("an invalid np under RFC 9989"); return }
        guard case .record(let seven) = read("v=DMARC1; p=reject; np=bogus", knowsNP: false) else { Issue.record("np ignored under RFC 7489"); return }
        #expect(seven.policy == .reject && seven.nonexistentPolicy == nil)
        // v=DMARC1 first stays required.
        #expect(read("v=DMARC1 p=reject") == .none)
        #expect(read("p=reject; v=DMARC1") == .none)
        #expect(DMARCRecord.discover([String(repeating: "v=DMARC1; p=reject; x=", count: 1) + String(repeating: "a", count: 3000)]) != .none)
    }
}

@Suite("The Public Suffix List")
struct PublicSuffixListTests {
    static let sample = """
        // ===BEGIN ICANN DOMAINS===
        com
        uk
        co.uk
        *.ck
        !www.ck
        // Unicode rules are compared as A-labels.
        公司.cn
        cn
        // ===BEGIN PRIVATE DOMAINS===
        github.io
        """

    @Test("Rules, wildcards, exceptions, Unicode and the default rule give the organisational domain", arguments: [
        ("mail.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("example.co.uk", "example.co.uk"),
        ("a.b.shop.ck", "b.shop.ck"),
        ("www.ck", "www.ck"),
        ("x.www.ck", "www.ck"),
        ("mail.example.xn--55qx5d.cn", "example.xn--55qx5d.cn"),
        ("a.user.github.io", "user.github.io"),
        ("x.secure.palisade.example", "palisade.example"),
    ])
    func organizationalDomain(domain: String, expected: String) throws {
        let list = try PublicSuffixList(text: Self.sample)
        #expect(list.organizationalDomain(of: try DomainName(domain)).ascii == expected)
    }

    @Test("A name that is itself a public suffix is its own organisational domain")
    func suffixItself() throws {
        let list = try PublicSuffixList(text: Self.sample)
        #expect(list.organizationalDomain(of: try DomainName("co.uk")).ascii == "co.uk")
    }

    @Test("Debian's list (the publicsuffix package) reads and answers as the RFC 7489 examples expect")
    func debian() throws {
        let list = try PublicSuffixList()
        #expect(list.count > 5_000)
        #expect(list.organizationalDomain(of: try DomainName("mail.example.co.uk")).ascii == "example.co.uk")
        #expect(list.organizationalDomain(of: try DomainName("a.b.example.com")).ascii == "example.com")
    }

    @Test("Something that is not a list is refused")
    func refused() {
        #expect(throws: PublicSuffixListError.self) { try PublicSuffixList(text: "// only comments\n") }
        #expect(throws: PublicSuffixListError.self) { try PublicSuffixList(text: "com\nbad..rule\n") }
        #expect(throws: PublicSuffixListError.self) { try PublicSuffixList(contentsOf: "/nonexistent/list.dat") }
    }
}

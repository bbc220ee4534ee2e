import CoreTestSupport
import DNS
import Logging
import MailPolicy
import Testing

@Suite("DMARC evaluation against the test world's records (RFC 7489, RFC 9989)")
struct DMARCEvaluatorTests {
    static let s = "secure.palisade.example"

    static func dkim(_ domain: String, _ kind: DKIMResult.Kind = .pass) -> DKIMResult {
        DKIMResult(kind: kind, domain: domain, selector: "s", algorithm: "rsa-sha256", reason: "", testing: false)
    }

    static func evaluate(_ from: String, spf: (SPFResult.Kind, String)? = nil, dkim: [DKIMResult] = [], sample: Int = 0,
                         discovery: DMARCEvaluator.Discovery = .treeWalk) async throws -> DMARCVerdict {
        let world = try TestWorld.current()
        let resolver = try world.resolver(logger: Logger(label: "palisade.test.dmarc"))
        defer { resolver.close() }
        return await DMARCEvaluator(resolver: resolver, discovery: discovery, sample: { sample })
            .evaluate(fromDomain: from, spf: spf.map { (kind: $0.0, domain: $0.1) }, dkim: dkim)
    }

    @Test("Aligned DKIM passes, strictly and relaxed (same Organizational Domain by the tree walk)")
    func dkimAlignment() async throws {
        var verdict = try await Self.evaluate("dkim.\(Self.s)", dkim: [Self.dkim("dkim.\(Self.s)")])
        #expect(verdict.result == .pass && verdict.dkimAligned && verdict.policy == .reject, "\(verdict)")
        verdict = try await Self.evaluate("mail.dkim.\(Self.s)", dkim: [Self.dkim("dkim.\(Self.s)")])
        #expect(verdict.result == .pass && verdict.policyDomain == "dkim.\(Self.s)", "found by the walk: \(verdict)")
        // A failed signature aligns nothing.
        verdict = try await Self.evaluate("dkim.\(Self.s)", dkim: [Self.dkim("dkim.\(Self.s)", .fail)])
        #expect(verdict.result == .fail && verdict.disposition == .reject, "\(verdict)")
    }

    @Test("psd=n makes an Organizational Domain: a signature of another organisation does not align")
    func organizations() async throws {
        var verdict = try await Self.evaluate("dmarc.\(Self.s)", dkim: [Self.dkim("dkim.\(Self.s)")])
        #expect(verdict.result == .fail && !verdict.dkimAligned && verdict.disposition == .reject, "\(verdict)")
        verdict = try await Self.evaluate("dmarc.\(Self.s)", spf: (.pass, "bounces.dmarc.\(Self.s)"))
        #expect(verdict.result == .pass && verdict.spfAligned, "relaxed SPF alignment: \(verdict)")
        verdict = try await Self.evaluate("dmarc.\(Self.s)", spf: (.softfail, "dmarc.\(Self.s)"))
        #expect(verdict.result == .fail, "only an SPF pass aligns: \(verdict)")
    }

    @Test("Subdomains get sp, domains that do not exist get np, strict alignment is strict")
    func subdomains() async throws {
        var verdict = try await Self.evaluate("real.dmarc.\(Self.s)")
        #expect(verdict.result == .fail && verdict.policy == .quarantine && verdict.policyDomain == "dmarc.\(Self.s)", "\(verdict)")
        verdict = try await Self.evaluate("ghost.dmarc.\(Self.s)")
        #expect(verdict.policy == .reject, "np for a domain that does not exist: \(verdict)")
        verdict = try await Self.evaluate("strict.dmarc.\(Self.s)", dkim: [Self.dkim("dmarc.\(Self.s)")])
        #expect(verdict.result == .fail, "adkim=s: \(verdict)")
        verdict = try await Self.evaluate("strict.dmarc.\(Self.s)", dkim: [Self.dkim("strict.dmarc.\(Self.s)")])
        #expect(verdict.result == .pass, "\(verdict)")
    }

    @Test("pct samples, t=y lowers, two records mean that level has none")
    func modifiers() async throws {
        var verdict = try await Self.evaluate("pct.dmarc.\(Self.s)", sample: 10)
        #expect(verdict.disposition == .reject, "sampled: \(verdict)")
        verdict = try await Self.evaluate("pct.dmarc.\(Self.s)", sample: 70)
        #expect(verdict.disposition == .quarantine, "not sampled: one step less: \(verdict)")
        verdict = try await Self.evaluate("testing.dmarc.\(Self.s)")
        #expect(verdict.policy == .reject && verdict.disposition == .quarantine, "\(verdict)")
        verdict = try await Self.evaluate("two.dmarc.\(Self.s)")
        #expect(verdict.policyDomain == "dmarc.\(Self.s)" && verdict.policy == .quarantine, "\(verdict)")
    }

    @Test("No record is none; a DNS failure is temperror; the Public Suffix List mode finds the list's Organizational Domain")
    func failuresAndModes() async throws {
        #expect(try await Self.evaluate("nothing.example").result == .none)
        #expect(try await Self.evaluate("expired.palisade.example").result == .temperror)
        #expect(try await Self.evaluate("lame.example.net").result == .temperror)
        let list = try PublicSuffixList()
        let verdict = try await Self.evaluate("real.dmarc.\(Self.s)", discovery: .publicSuffixList(list))
        #expect(verdict.policyDomain == "palisade.example" && verdict.policy == DMARCRecord.Policy.none, "\(verdict)")
        #expect(try await Self.evaluate("real.dmarc.\(Self.s)").policy == .quarantine, "the tree walk stops at the record of dmarc, psd=n")
        // Several records: RFC 7489 ends discovery (none applies), where the tree walk went on to dmarc's record.
        let several = try await Self.evaluate("two.dmarc.\(Self.s)", discovery: .publicSuffixList(list))
        #expect(several.result == .none && several.policyDomain == "two.dmarc.\(Self.s)", "\(several)")
    }

    @Test("A malformed record is permerror where it is found, in both modes: the Organizational Domain's policy does not stand in")
    func malformed() async throws {
        for discovery in [DMARCEvaluator.Discovery.treeWalk, .publicSuffixList(try PublicSuffixList())] {
            let verdict = try await Self.evaluate("doctor-bad.\(Self.s)", spf: (.fail, "doctor-bad.\(Self.s)"), discovery: discovery)
            #expect(verdict.result == .permerror && verdict.policy == nil && verdict.policyDomain == "doctor-bad.\(Self.s)", "\(verdict)")
            #expect(verdict.reason.contains("p=bogus is not none, quarantine or reject"), "\(verdict.reason)")
        }
        // No p, but a rua: p=none (RFC 7489 section 6.6.3 step 6, RFC 9989 section 4.10.1).
        let verdict = try await Self.evaluate("nop.dmarc.\(Self.s)")
        #expect(verdict.result == .fail && verdict.policy == DMARCRecord.Policy.none && verdict.policyDomain == "nop.dmarc.\(Self.s)", "\(verdict)")
    }
}

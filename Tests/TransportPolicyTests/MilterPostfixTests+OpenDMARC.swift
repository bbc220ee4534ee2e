import Core
import CoreTestSupport
import Foundation
import Testing

/// The same messages judged by OpenDMARC (Debian's opendmarc: RFC 7489, organizational domains from the Public
/// Suffix List) and by palisade-transport's milter in its RFC 7489 mode (`organizationalDomain: psl`), one after
/// the other behind the test world's Postfix. OpenDMARC checks neither DKIM nor SPF here: it is handed our
/// Authentication-Results (DKIMAgreementTests holds our DKIM to dkimpy's); its own SPF check (libspf2) would pass
/// every loopback client. So what is compared is policy discovery, alignment and the result with the policy (p);
/// not the disposition: both only report here (`enforce: false`, so that every message reaches OpenDMARC), and
/// dispositions (pct, t=y) are tested against the RFC in DMARCEvaluatorTests. Postfix holds
/// each one, and both Authentication-Results fields are read from the queue file. Part of MilterPostfixTests's
/// suite, whose tests run one at a time: the world's Postfix sends to one milter port.
extension MilterPostfixTests {
    /// One message: who it claims to be from, its envelope sender, whether and how it is signed, and the
    /// verdict both must give (result and the policy that applied).
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let from: String
        let mailFrom: String
        var signed = false
        var brokenSignature = false
        let verdict: String
        /// Where OpenDMARC departs from the RFC: the verdicts it gives instead, which the test holds it to, so
        /// that a change on either side shows.
        var openDMARCDeparts: Set<String>?
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "aligned SPF and DKIM", from: "alice@dkim.\(s)", mailFrom: "alice@spf-pass.\(s)", signed: true, verdict: "pass p=reject"),
        Case(name: "DKIM only (SPF fails)", from: "alice@dkim.\(s)", mailFrom: "alice@spf-fail.\(s)", signed: true, verdict: "pass p=reject"),
        Case(name: "both fail, p=reject", from: "alice@dkim.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=reject"),
        Case(name: "a broken signature, SPF fails", from: "alice@dkim.\(s)", mailFrom: "alice@spf-fail.\(s)", signed: true, brokenSignature: true, verdict: "fail p=reject"),
        Case(name: "subdomain policy sp=quarantine", from: "alice@mail.orgpolicy.example", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=quarantine"),
        Case(name: "pct=50", from: "alice@pct.dmarc.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=reject"),
        Case(name: "no record anywhere", from: "alice@nodmarc.example", mailFrom: "alice@spf-fail.\(s)", verdict: "none"),
        Case(name: "relaxed DKIM alignment through the organizational domain", from: "alice@insecure.palisade.example", mailFrom: "alice@spf-fail.\(s)", signed: true, verdict: "pass p=none"),
        Case(name: "strict DKIM alignment (adkim=s)", from: "alice@strict.dmarc.\(s)", mailFrom: "alice@spf-fail.\(s)", signed: true, verdict: "fail p=reject"),
        Case(name: "test mode t=y", from: "alice@testing.dmarc.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=reject"),
        // SPF alone, MAIL FROM in the From domain itself: OpenDMARC 1.4.2 ignores the spf=pass it is handed in our
        // trusted Authentication-Results (and its own libspf2 check would pass any loopback client), so it fails.
        Case(name: "SPF only, the same domain", from: "alice@spf-pass.\(s)", mailFrom: "alice@spf-pass.\(s)", verdict: "pass p=none", openDMARCDeparts: ["fail p=none"]),
        // RFC 7489 section 6.6.3 step 5: several records end discovery, no DMARC applies. OpenDMARC 1.4.2 applies
        // whichever of the two (p=none, p=reject) the DNS answer lists first.
        Case(name: "two records", from: "alice@two.dmarc.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "none", openDMARCDeparts: ["fail p=none", "fail p=reject"]),
        // RFC 7489 section 6.6.3 step 6: no p, but a valid rua: act as p=none. OpenDMARC calls it a permerror.
        Case(name: "no p, with rua", from: "alice@nop.dmarc.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=none", openDMARCDeparts: ["permerror"]),
        Case(name: "a malformed record (p=bogus)", from: "alice@doctor-bad.\(s)", mailFrom: "alice@spf-fail.\(s)", verdict: "permerror"),
        Case(name: "the organizational domain's p=none", from: "alice@insecure.palisade.example", mailFrom: "alice@spf-fail.\(s)", verdict: "fail p=none"),
    ]

    /// `dmarc=RESULT` and the `p=` in its comment, from the Authentication-Results field of `authservID` among
    /// the header fields postcat printed; nil when there is no such field.
    static func verdict(of authservID: String, in headers: String) -> String? {
        // Header fields with their continuation lines joined.
        var fields: [String] = []
        for line in headers.split(separator: "\n", omittingEmptySubsequences: false) {
            if let first = line.first, first == " " || first == "\t", !fields.isEmpty { fields[fields.count - 1] += " " + line.trimmingCharacters(in: .whitespaces) } else { fields.append(String(line)) }
        }
        guard let field = fields.first(where: { $0.lowercased().hasPrefix("authentication-results: \(authservID);") }),
              let match = field.firstMatch(of: /dmarc=([a-z]+)(?: \(p=([a-z]+))?/) else { return nil }
        // "none" is "none", whatever comment follows.
        guard match.output.1 != "none", let policy = match.output.2 else { return String(match.output.1) }
        return "\(match.output.1) p=\(policy)"
    }

    @Test("DMARC verdicts agree with OpenDMARC's (RFC 7489 mode), message by message, but where OpenDMARC departs from the RFC")
    func agreeWithOpenDMARC() async throws {
        let world = try await TransportWorld.make()
        defer { world.close() }
        guard let smtp = world.world.smtpOpenDMARCPort, let milter = world.world.milterPort else {
            throw TestWorld.Missing(description: "the test world runs no Postfix with OpenDMARC: world.sh starts them only as root, with opendmarc installed")
        }
        let spool = Self.worldDirectory(world.world).appendingPathComponent("smtp")
        let service = try await Self.startMilter(world, port: milter, settings: """

                enforce: false
                organizationalDomain: psl
                publicSuffixList: \(Self.worldDirectory(world.world).appendingPathComponent("opendmarc/public_suffix_list.dat").path)
            """)
        defer { service.stop() }

        for test in Self.cases {
            var message = Self.message(from: test.from, subject: test.name)
            if test.signed { message = try await DKIMSigner.sign(message, key: "rsa") }
            if test.brokenSignature { message = message.replacingOccurrences(of: "Hello Bob.", with: "Hello Mallory.") }
            let transcript = try await Self.send(message, mailFrom: test.mailFrom, port: smtp)
            let queued = transcript.split(separator: "\n").first { $0.contains("Ok: queued as") }.map { String($0.split(separator: " ").last!) }
            guard let id = queued else {
                Issue.record("\(test): not queued: \(transcript)")
                continue
            }
            let held = try await ChildProcess.runReportingStatus("/usr/sbin/postcat", ["-c", spool.path, "-h", "-q", id], includingStandardError: true).output
            let ours = Self.verdict(of: "mx.test.example", in: held)
            let theirs = Self.verdict(of: "opendmarc.test.example", in: held)
            #expect(theirs.map { test.openDMARCDeparts?.contains($0) ?? ($0 == ours) } == true, "\(test): Palisade \(ours ?? "nothing"), OpenDMARC \(theirs ?? "nothing")\n\(held)")
            #expect(ours == test.verdict, "\(test)")
        }
    }
}

import Core
import CoreTestSupport
import DNS
import DomainDoctor
import Foundation
import HTTPFetch
import Logging
import MailPolicy
import Testing

@Suite("platformctl doctor against the test world")
struct DoctorTests {
    @Test("A domain that publishes everything right passes every check, a roll-over's next key included")
    func good() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let diagnosis = await try world.doctor(next: [world.certificate("mx-next.pem")]).diagnose(try DomainName(DoctorWorld.good), wkd: true)
        #expect(diagnosis.status == .pass, "\(diagnosis.findings.filter { $0.status != .pass })")
        for check in ["dnssec", "caa", "mta-sts", "dane", "tlsrpt", "dmarc", "wkd"] {
            #expect(!diagnosis.findings(check).isEmpty, "\(check) ran")
        }
        #expect(diagnosis.says("mta-sts", "record id \(DoctorWorld.policy.recordID) matches"), "the id world.sh computed with sha256sum is ours")
        // Postfix presents mx.pem; doctor-good publishes its key and the next one.
        let current = try world.certificate("mx.pem")
        let currentRecord = "3 1 1 " + SHA2.sha256(current.subjectPublicKeyInfo).map { String(format: "%02X", $0) }.joined()
        #expect(diagnosis.says("dane", "matched by \(currentRecord)"), "\(diagnosis.findings("dane"))")
        #expect(diagnosis.says("dane", "next key published: 3 1 1 "))
        #expect(diagnosis.findings("wkd").count == 2 && diagnosis.says("wkd", "advanced") && diagnosis.says("wkd", "direct"))
        #expect(diagnosis.findings("tlsrpt").count == 2, "both rua destinations checked")
    }

    @Test("Without the next certificate configured, the extra TLSA record is named but does not fail")
    func rollOverUnknown() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let diagnosis = await try world.doctor().diagnose(try DomainName(DoctorWorld.good), wkd: false)
        #expect(diagnosis.status("dane") == .pass)
        #expect(diagnosis.says("dane", "matching nothing presented (a next key, or stale)"))
        #expect(diagnosis.findings("wkd").isEmpty)
    }

    @Test("A domain that publishes everything wrong fails each check with the reason and the record to publish")
    func bad() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let domain = DoctorWorld.bad
        let diagnosis = await try world.doctor(next: [world.certificate("mx-next.pem")]).diagnose(try DomainName(domain), wkd: true)
        #expect(diagnosis.status == .fail)
        #expect(diagnosis.status("dnssec") == .pass)
        #expect(diagnosis.says("caa", "allows other-ca.example, not in doctor.caa.issuers"))
        #expect(diagnosis.says("caa", "no iodef property"))
        #expect(diagnosis.findings("caa").contains { $0.fix?.contains("\(domain). IN CAA 0 issue \"ca.palisade.example\"") == true })
        #expect(diagnosis.says("mta-sts", "id stale1 is not our served policy's (\(DoctorWorld.policy.recordID))"))
        #expect(diagnosis.says("mta-sts", "MX mx.doctor-bad.secure.palisade.example not covered"))
        // The MX presents mx.pem; only the next key's record is published: the mismatch a key change without a new record causes.
        let dane = diagnosis.findings("dane")
        #expect(dane.count == 1 && dane[0].status == .fail && dane[0].reason.contains("no TLSA record at _25._tcp.mx.doctor-bad"), "\(dane)")
        #expect(dane[0].fix?.contains("_25._tcp.mx.doctor-bad.secure.palisade.example. IN TLSA 3 1 1 ") == true)
        #expect(diagnosis.says("tlsrpt", "no report endpoint there: HTTP 404 to a POST"))
        #expect(diagnosis.says("dmarc", "p=bogus is not none, quarantine or reject"))
        #expect(diagnosis.findings("wkd").count == 2 && diagnosis.status("wkd") == .fail)
        let fixes = diagnosis.findings.compactMap(\.fix)
        #expect(fixes.count == Set(fixes).count, "a shared fix is printed once")
    }

    @Test("An unsigned zone fails DNSSEC and DANE, has no CAA anywhere above it, and inherits a p=none DMARC record")
    func insecure() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let diagnosis = await try world.doctor().diagnose(try DomainName("insecure.palisade.example"), wkd: false)
        #expect(diagnosis.status("dnssec") == .fail && diagnosis.says("dnssec", "not signed"))
        #expect(diagnosis.says("caa", "no CAA record at insecure.palisade.example or above it"))
        #expect(diagnosis.says("dane", "are insecure, not DNSSEC-secure"))
        #expect(diagnosis.says("dmarc", "(from the organisational domain palisade.example) is none"))
        #expect(diagnosis.says("mta-sts", "is not in transport.ownPolicy.domains"))
        #expect(diagnosis.says("tlsrpt", "no _smtp._tls TXT record"))
    }

    @Test("A domain whose name servers do not answer passes nothing: every check fails or warns")
    func unanswered() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let diagnosis = await try world.doctor().diagnose(try DomainName("dead.palisade.example"), wkd: true)
        #expect(diagnosis.status == .fail)
        #expect(!diagnosis.findings.contains { $0.status == .pass }, "\(diagnosis.findings.filter { $0.status == .pass })")
        for check in ["dnssec", "caa", "mta-sts", "dane", "tlsrpt", "dmarc", "wkd"] {
            #expect(diagnosis.status(check) == .fail, "\(check): \(diagnosis.findings(check))")
        }
    }

    @Test("Doctor findings are fetched as senders fetch: a private address is refused unless the test-world setting allows it")
    func privateAddresses() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        var configuration = try world.doctor().configuration
        configuration.allowPrivateAddresses = false
        let doctor = DomainDoctor(configuration: configuration, resolver: world.resolver, fetcher: world.fetcher)
        let diagnosis = await doctor.diagnose(try DomainName(DoctorWorld.good), wkd: true)
        #expect(diagnosis.says("dane", "127.0.0.1 is not a public address"))
        #expect(diagnosis.status("mta-sts") == .fail && diagnosis.status("wkd") == .fail)
    }

    @Test("The STARTTLS probe reads the chain the real Postfix presents; a port without SMTP or without a listener is a clear failure")
    func probe() async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let address = IPAddress("127.0.0.1")!
        let probe = try await world.fetcher.probeSMTPStartTLS(host: "mx.doctor-good.secure.palisade.example", address: address, port: world.smtpPort, heloName: "doctor.test")
        #expect(probe.chain.first == (try world.certificate("mx.pem")))
        #expect(probe.chain.first?.subject == "CN=mx.doctor-good.secure.palisade.example")
        // nginx speaks TLS at once, not SMTP: no greeting ever comes.
        do {
            _ = try await world.fetcher.probeSMTPStartTLS(host: "www.secure.palisade.example", address: address, port: world.world.httpsPort, heloName: "doctor.test", timeout: .seconds(2))
            Issue.record("a TLS port answered as SMTP")
        } catch HTTPFetchError.timedOut {
        }
        do {
            _ = try await world.fetcher.probeSMTPStartTLS(host: "mx.example", address: address, port: world.world.deadDNSPort, heloName: "doctor.test", timeout: .seconds(5))
            Issue.record("a closed port answered")
        } catch HTTPFetchError.connectFailed(let host, _) {
            #expect(host == "mx.example")
        }
    }

    @Test("TLSA matching by usage, selector and matching type (RFC 6698, RFC 7672 section 3.1)")
    func matching() throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let leaf = try world.certificate("mx.pem")
        let anchor = try world.certificate("ca.pem")
        let chain = [leaf, anchor]
        let mx = "mx.doctor-good.secure.palisade.example"
        func record(_ usage: UInt8, _ selector: UInt8, _ type: UInt8, _ certificate: PeerCertificate) -> TLSARecord {
            TLSARecord(usage: usage, selector: selector, matchingType: type, data: TLSAMatching.data(of: certificate, selector: selector, matchingType: type))
        }
        for selector in UInt8(0)...1 {
            for type in UInt8(0)...2 {
                #expect(TLSAMatching.match(record(3, selector, type, leaf), chain: chain, host: mx) == .matches(leaf))
                #expect(TLSAMatching.match(record(2, selector, type, anchor), chain: chain, host: mx) == .matches(anchor))
            }
        }
        #expect(TLSAMatching.data(of: leaf, selector: 1, matchingType: 2).count == 64)
        #expect(throws: PeerCertificate.Invalid.self, "selector 0 hashes exactly the certificate: nothing may follow it") {
            try PeerCertificate(der: leaf.der + [0])
        }
        #expect(TLSAMatching.match(record(3, 1, 1, anchor), chain: chain, host: mx) == .noMatch, "DANE-EE matches the leaf only")
        #expect(TLSAMatching.match(record(2, 1, 1, leaf), chain: chain, host: mx) == .noMatch, "DANE-TA never matches the leaf")
        #expect(TLSAMatching.match(record(2, 1, 1, anchor), chain: [leaf], host: mx) == .noMatch, "a trust anchor the server does not send")
        // DANE-TA needs the leaf to verify up to the anchor and to name the host (RFC 7672 section 3.2.2).
        let stranger = try world.certificate("self-signed.pem")
        guard case .anchorDoesNotVerify = TLSAMatching.match(record(2, 1, 1, stranger), chain: [leaf, stranger], host: mx) else {
            Issue.record("an unrelated CA in the chain is no trust anchor for the leaf")
            return
        }
        guard case .anchorDoesNotVerify(let why) = TLSAMatching.match(record(2, 1, 1, anchor), chain: chain, host: "mx.example.org") else {
            Issue.record("a leaf without the MX name does not verify")
            return
        }
        #expect(why.contains("hostname mismatch"), "\(why)")
        #expect(TLSAMatching.match(record(2, 1, 1, anchor), chain: chain, host: "mx.doctor-bad.secure.palisade.example") == .matches(anchor), "the other name of the certificate")
        guard case .unusable = TLSAMatching.match(record(1, 1, 1, leaf), chain: chain, host: mx) else {
            Issue.record("PKIX usages are not for SMTP")
            return
        }
        guard case .unusable = TLSAMatching.match(TLSARecord(usage: 3, selector: 1, matchingType: 9, data: []), chain: chain, host: mx) else {
            Issue.record("an unknown matching type is unusable")
            return
        }
    }
}

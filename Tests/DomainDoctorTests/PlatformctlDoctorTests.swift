import Core
import DNS
import CoreTestSupport
import Foundation
import MailPolicy
import Testing

@Suite("platformctl doctor and dns records (the built binary)")
struct PlatformctlDoctorTests {
    @Test("doctor checks every platform domain, exits 2 on a failure and 0 when all pass; --json carries each finding")
    func doctor() async throws {
        try await Self.withPlatformDomains([DoctorWorld.good, DoctorWorld.bad]) { db, config, _ in
            var result = try await db.platformctl(["doctor", "--config", config.path])
            #expect(result.status == 2, "\(result.output)")
            #expect(result.output.contains("\(DoctorWorld.good): PASS"))
            #expect(result.output.contains("\(DoctorWorld.bad): FAIL"))
            #expect(result.output.contains("2 domains: 1 pass, 0 warn, 1 fail"))
            #expect(result.output.contains("fix: publish:"))

            result = try await db.platformctl(["doctor", "--config", config.path, "--domain", DoctorWorld.good, "--json"])
            #expect(result.status == 0, "\(result.output)")
            let json = try #require(result.output.firstIndex(of: "{").map { String(result.output[$0...]) })
            let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            #expect(report?["status"] as? String == "pass")
            let domains = report?["domains"] as? [[String: Any]]
            let checks = Set((domains?.first?["findings"] as? [[String: Any]] ?? []).compactMap { $0["check"] as? String })
            #expect(checks == ["dnssec", "caa", "mta-sts", "dane", "tlsrpt", "dmarc", "wkd"])
        }
    }

    @Test("Warnings alone exit 1, as monitoring plugins read it")
    func warnings() async throws {
        try await Self.withPlatformDomains([DoctorWorld.good]) { db, _, world in
            let config = try world.configurationFile(ownPolicyDomains: [DoctorWorld.bad])
            defer { try? FileManager.default.removeItem(at: config) }
            let result = try await db.platformctl(["doctor", "--config", config.path])
            #expect(result.status == 1, "\(result.output)")
            #expect(result.output.contains("\(DoctorWorld.good): WARN"))
            #expect(result.output.contains("is not in transport.ownPolicy.domains"))
        }
    }

    @Test("dns records prints the zone lines: CAA, the _mta-sts id of our policy, TLSRPT, DMARC and TLSA of the current and next key")
    func records() async throws {
        try await Self.withPlatformDomains([DoctorWorld.good]) { db, config, world in
            let result = try await db.platformctl(["dns", "records", "--config", config.path])
            #expect(result.status == 0, "\(result.output)")
            let d = DoctorWorld.good
            #expect(result.output.contains("\(d). IN CAA 0 issue \"ca.palisade.example\""))
            #expect(result.output.contains("\(d). IN CAA 0 iodef \"mailto:security@palisade.example\""))
            #expect(result.output.contains("_mta-sts.\(d). IN TXT \"v=STSv1; id=\(DoctorWorld.policy.recordID)\""))
            #expect(result.output.contains("_smtp._tls.\(d). IN TXT \"v=TLSRPTv1; rua=https://mta-sts.\(d)/v1/tlsrpt\""))
            #expect(result.output.contains("_dmarc.\(d). IN TXT \"v=DMARC1; p=reject; rua=mailto:dmarc@\(d)\""))
            // The TLSA lines equal what the signed zone publishes (computed there by the openssl command line).
            let published = try await world.resolver.tlsa(try DNS.DNSName("_25._tcp.mx.\(d)")).records()
            #expect(published.count == 2)
            for record in published {
                let hex = record.data.map { String(format: "%02X", $0) }.joined()
                #expect(result.output.contains("_25._tcp.mx.\(d). IN TLSA 3 1 1 \(hex)"), "\(result.output)")
            }
        }
    }

    /// A database with `domains` registered as platform domains and a configuration file for the world.
    static func withPlatformDomains(_ domains: [String], _ body: (TestDatabase, URL, DoctorWorld) async throws -> Void) async throws {
        let world = try DoctorWorld.make()
        defer { world.close() }
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let config = try world.configurationFile()
        defer { try? FileManager.default.removeItem(at: config) }
        for domain in domains {
            let added = try await db.platformctl(["domains", "add", "--platform", domain])
            #expect(added.status == 0, "\(added.output)")
        }
        try await body(db, config, world)
    }
}

import Core
import CoreTestSupport
import DNS
import DomainDoctor
import Foundation
import HTTPFetch
import Logging
import MailPolicy

/// The doctor against the test world: its signed zones (doctor-good, doctor-bad and insecure), nginx with
/// the policy and WKD hosts, and the real Postfix its MX names resolve to.
struct DoctorWorld {
    static let good = "doctor-good.secure.palisade.example"
    static let bad = "doctor-bad.secure.palisade.example"
    /// The policy world.sh serves for both doctor domains and whose id doctor-good publishes.
    static let policy = MTASTSPolicy(mode: .enforce, mx: [try! MXPattern("mx.doctor-good.secure.palisade.example")], maxAge: 604_800)

    let world: TestWorld
    /// The world's Postfix.
    let smtpPort: Int
    let resolver: DNSResolver
    let fetcher: HTTPFetcher

    /// The world's certificate files (DIR/https).
    var certificates: URL { URL(fileURLWithPath: world.certificateAuthorityFile).deletingLastPathComponent() }

    static func make() throws -> DoctorWorld {
        let world = try TestWorld.current()
        guard let smtpPort = world.smtpPort else {
            throw TestWorld.Missing(description: "the test world runs no Postfix: world.sh starts one only as root (Postfix's master runs only as root)")
        }
        let logger = Logger(label: "palisade.test.doctor")
        let resolver = try world.resolver(logger: logger)
        return DoctorWorld(world: world, smtpPort: smtpPort, resolver: resolver, fetcher: try world.fetcher(resolver: resolver, logger: logger))
    }

    func certificate(_ name: String) throws -> PeerCertificate {
        try PeerCertificate(pem: String(contentsOf: certificates.appendingPathComponent(name), encoding: .utf8))
    }

    func doctor(next: [PeerCertificate] = []) throws -> DomainDoctor {
        let configuration = DoctorConfiguration(
            caaIssuers: ["ca.palisade.example"], caaIodef: "mailto:security@palisade.example",
            ownPolicy: Self.policy, ownPolicyDomains: [Self.good, Self.bad], dmarcReports: "mailto:dmarc@{domain}",
            nextCertificates: next, smtpPort: smtpPort, httpsPort: world.httpsPort, allowPrivateAddresses: true, heloName: "doctor.test",
            timeout: .seconds(10), publicSuffixList: try PublicSuffixList())
        return DomainDoctor(configuration: configuration, resolver: resolver, fetcher: fetcher)
    }

    /// A configuration file for platformctl with the same settings (our policy served for `ownPolicyDomains`).
    func configurationFile(ownPolicyDomains: [String] = [DoctorWorld.good, DoctorWorld.bad]) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-doctor-\(UUID().uuidString.prefix(8)).yaml")
        try (world.clientSettingsYAML + "\n" + """
            transport:
              ownPolicy:
                domains: [\(ownPolicyDomains.joined(separator: ", "))]
                mx: [mx.doctor-good.secure.palisade.example]
                maxAge: 7d
            doctor:
              caa:
                issuers: [ca.palisade.example]
                iodef: "mailto:security@palisade.example"
              dmarc:
                rua: "mailto:dmarc@{domain}"
              dane:
                nextCertificates: [\(certificates.appendingPathComponent("mx-next.pem").path)]
              smtpPort: \(smtpPort)
              httpsPort: \(world.httpsPort)
              allowPrivateAddresses: true
              heloName: doctor.test
            """).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func close() { resolver.close() }
}

extension DomainDiagnosis {
    func findings(_ check: String) -> [DoctorFinding] { findings.filter { $0.check == check } }
    func status(_ check: String) -> DoctorFinding.Status { findings(check).map(\.status).max() ?? .pass }
    func says(_ check: String, _ text: String) -> Bool { findings(check).contains { $0.reason.contains(text) } }
}

import Core
import DNS
import Foundation
import HTTPFetch
import MailPolicy

/// What the doctor compares our domains' published records with.
public struct DoctorConfiguration: Sendable {
    /// CA domain names allowed to issue (CAA); empty: not configured.
    public var caaIssuers: [String]
    /// The CAA iodef URL, `{domain}` not yet replaced; empty: not configured.
    public var caaIodef: String
    /// The MTA-STS policy palisade-transport serves, and for which domains (`transport.ownPolicy.*`).
    public var ownPolicy: MTASTSPolicy?
    public var ownPolicyDomains: Set<String>
    public var dmarcPolicy: DMARCRecord.Policy
    public var dmarcReports: String
    public var tlsrptReports: String
    /// The certificates to be used next on our MX hosts (a roll-over's new key).
    public var nextCertificates: [PeerCertificate]
    public var smtpPort: Int
    public var httpsPort: Int
    /// Test worlds only: our hosts may resolve to addresses senders cannot reach.
    public var allowPrivateAddresses: Bool
    public var heloName: String
    public var timeout: Duration
    public var publicSuffixList: PublicSuffixList

    public init(caaIssuers: [String] = [], caaIodef: String = "", ownPolicy: MTASTSPolicy? = nil, ownPolicyDomains: Set<String> = [],
                dmarcPolicy: DMARCRecord.Policy = .reject, dmarcReports: String = "", tlsrptReports: String = "https://mta-sts.{domain}/v1/tlsrpt",
                nextCertificates: [PeerCertificate] = [], smtpPort: Int = 25, httpsPort: Int = 443, allowPrivateAddresses: Bool = false, heloName: String,
                timeout: Duration = .seconds(15), publicSuffixList: PublicSuffixList) {
        self.caaIssuers = caaIssuers.map { $0.lowercased() }
        self.caaIodef = caaIodef
        self.ownPolicy = ownPolicy
        self.ownPolicyDomains = ownPolicyDomains
        self.dmarcPolicy = dmarcPolicy
        self.dmarcReports = dmarcReports
        self.tlsrptReports = tlsrptReports
        self.nextCertificates = nextCertificates
        self.smtpPort = smtpPort
        self.httpsPort = httpsPort
        self.allowPrivateAddresses = allowPrivateAddresses
        self.heloName = heloName
        self.timeout = timeout
        self.publicSuffixList = publicSuffixList
    }

    /// Reads the `doctor.*` settings; the caller adds our served MTA-STS policy.
    public init(_ config: PalisadeConfiguration) throws {
        var next: [PeerCertificate] = []
        for path in DoctorSettings.nextCertificates.read(config) {
            guard let data = FileManager.default.contents(atPath: path) else { throw DoctorConfigurationError("doctor.dane.nextCertificates: cannot read \(path)") }
            do {
                next.append(try PeerCertificate(pem: String(decoding: data, as: UTF8.self)))
            } catch {
                throw DoctorConfigurationError("doctor.dane.nextCertificates: \(path): \(error)")
            }
        }
        let list: PublicSuffixList
        do {
            list = try PublicSuffixList(contentsOf: DoctorSettings.publicSuffixList.read(config))
        } catch {
            throw DoctorConfigurationError("doctor.publicSuffixList: \(error)")
        }
        let helo = DoctorSettings.heloName.read(config)
        self.init(
            caaIssuers: DoctorSettings.caaIssuers.read(config), caaIodef: DoctorSettings.caaIodef.read(config),
            dmarcPolicy: DMARCRecord.Policy(rawValue: DoctorSettings.dmarcPolicy.read(config)) ?? .reject,
            dmarcReports: DoctorSettings.dmarcReports.read(config), tlsrptReports: DoctorSettings.tlsrptReports.read(config),
            nextCertificates: next, smtpPort: DoctorSettings.smtpPort.read(config), httpsPort: DoctorSettings.httpsPort.read(config),
            allowPrivateAddresses: DoctorSettings.allowPrivateAddresses.read(config),
            heloName: helo.isEmpty ? ProcessInfo.processInfo.hostName : helo, timeout: DoctorSettings.timeout.read(config),
            publicSuffixList: list
        )
    }

    /// `template` with `{domain}` replaced.
    func expand(_ template: String, for domain: DomainName) -> String {
        template.replacingOccurrences(of: "{domain}", with: domain.ascii)
    }

    /// A request to one of our URLs as the outside world makes it.
    func request(_ method: HTTPRequest.Method, _ url: URL) -> HTTPRequest {
        var request = HTTPRequest(method: method, url: url, maxBodySize: 64 * 1024, timeout: timeout)
        request.publicAddressesOnly = !allowPrivateAddresses
        return request
    }

    /// `:port` for a URL when the HTTPS port is not 443.
    var portSuffix: String { httpsPort == 443 ? "" : ":\(httpsPort)" }
}

/// A `doctor.*` setting that cannot be used.
public struct DoctorConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Checks what our own domains publish against what they should: CAA, DNSSEC, MTA-STS, DANE (with a
/// real STARTTLS probe of every MX address), TLSRPT, DMARC and WKD. Everything is looked up through the
/// validating resolver and fetched with certificate checks, as the senders and CAs that rely on the
/// records would.
public struct DomainDoctor: Sendable {
    public let configuration: DoctorConfiguration
    let resolver: DNSResolver
    let fetcher: HTTPFetcher
    private let probes = ProbeCache()

    public init(configuration: DoctorConfiguration, resolver: DNSResolver, fetcher: HTTPFetcher) {
        self.configuration = configuration
        self.resolver = resolver
        self.fetcher = fetcher
    }

    /// The STARTTLS probe of `host` at `address`, made once per doctor: MX hosts many domains share are
    /// probed once, and the DANE check and the TLSA lines see the same certificate.
    func probe(host: String, address: IPAddress) async throws -> SMTPStartTLSProbe {
        try await probes.probe(key: "\(host) \(address)") { [fetcher, configuration] in
            try await fetcher.probeSMTPStartTLS(host: host, address: address, port: configuration.smtpPort,
                                                heloName: configuration.heloName, timeout: configuration.timeout)
        }
    }

    /// Every check of one domain; `wkd` adds the WKD check (domains whose keys we publish).
    public func diagnose(_ domain: DomainName, wkd: Bool) async -> DomainDiagnosis {
        let mx = await lookUpMX(domain)
        async let caa = checkCAA(domain)
        async let mtaSTS = checkMTASTS(domain, mx: mx)
        async let dane = checkDANE(domain, mx: mx)
        async let tlsrpt = checkTLSRPT(domain)
        async let dmarc = checkDMARC(domain)
        async let keys = wkd ? checkWKD(domain) : []
        let findings = [checkDNSSEC(domain, mx: mx)] + (await caa) + (await mtaSTS) + (await dane) + (await tlsrpt) + (await dmarc) + (await keys)
        return DomainDiagnosis(domain: domain.ascii, findings: Self.withoutRepeatedFixes(findings))
    }

    /// Several findings of one check often share a fix (the record to publish): it is kept on the first only.
    static func withoutRepeatedFixes(_ findings: [DoctorFinding]) -> [DoctorFinding] {
        var seen: Set<[String]> = []
        return findings.map { finding in
            guard let fix = finding.fix, !seen.insert([finding.check, fix]).inserted else { return finding }
            return DoctorFinding(finding.check, finding.status, subject: finding.subject, finding.reason, fix: nil)
        }
    }

    /// The WKD check alone: for a customer's domain with WKD as a service, whose other records are theirs.
    public func diagnoseWKDOnly(_ domain: DomainName) async -> [DoctorFinding] {
        await checkWKD(domain)
    }

    /// The domain's MX answer, which the DNSSEC, MTA-STS and DANE checks share.
    func lookUpMX(_ domain: DomainName) async -> Result<DNSAnswer<MXRecord>, DNSError> {
        do {
            return .success(try await resolver.mx(try DNSName(domain.ascii)))
        } catch let error as DNSError {
            return .failure(error)
        } catch {
            return .failure(.resolver("\(error)"))
        }
    }

    /// The TXT records at `name`, each with its strings joined; a failed look-up is the reason.
    func txt(_ name: String) async -> Result<(records: [String], security: DNSSecurity), DoctorLookupFailure> {
        do {
            let answer = try await resolver.txt(try DNSName(name))
            return .success((try answer.records().map(\.text), answer.security))
        } catch {
            return .failure(DoctorLookupFailure(description: "the TXT look-up of \(name) failed: \(error)"))
        }
    }
}

/// The probes one doctor has made, by host and address.
private actor ProbeCache {
    private var probes: [String: Task<SMTPStartTLSProbe, any Error>] = [:]

    func probe(key: String, _ make: @escaping @Sendable () async throws -> SMTPStartTLSProbe) async throws -> SMTPStartTLSProbe {
        if let running = probes[key] { return try await running.value }
        let task = Task { try await make() }
        probes[key] = task
        return try await task.value
    }
}

/// A look-up that gave no answer, in words.
struct DoctorLookupFailure: Error, CustomStringConvertible {
    let description: String
}

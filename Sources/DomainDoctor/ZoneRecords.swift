import Core
import DNS
import HTTPFetch
import MailPolicy

/// One line for a zone file, and what it is for.
public struct ZoneRecord: Sendable, Codable, Equatable {
    public let name: String
    public let type: String
    public let data: String
    /// Why the record exists, or why it could not be computed (then `data` is empty).
    public let comment: String

    public var line: String { data.isEmpty ? "; \(comment)" : "\(name) IN \(type) \(data)" }
}

extension DomainDoctor {
    /// The records our configuration says the domain should publish: CAA, MTA-STS, TLSRPT, DMARC, and
    /// TLSA (3 1 1, the SHA-256 of the key each MX host presents now and of each next certificate).
    public func zoneRecords(_ domain: DomainName) async -> [ZoneRecord] {
        let apex = domain.ascii + "."
        var records: [ZoneRecord] = []
        if configuration.caaIssuers.isEmpty {
            records.append(ZoneRecord(name: apex, type: "CAA", data: "", comment: "CAA: set doctor.caa.issuers to the CAs we use"))
        }
        records += caaProperties(domain).map { ZoneRecord(name: apex, type: "CAA", data: $0, comment: "CAA (RFC 8659)") }
        if let policy = configuration.ownPolicy, configuration.ownPolicyDomains.contains(domain.ascii) {
            records.append(ZoneRecord(name: "_mta-sts." + apex, type: "TXT", data: "\"v=STSv1; id=\(policy.recordID)\"",
                                      comment: "MTA-STS (RFC 8461): id of the policy palisade-transport serves; mta-sts.\(apex) must reach its HTTPS listener"))
        } else {
            records.append(ZoneRecord(name: "_mta-sts." + apex, type: "TXT", data: "", comment: "MTA-STS: add the domain to transport.ownPolicy.domains (and set the policy) first"))
        }
        records.append(ZoneRecord(name: "_smtp._tls." + apex, type: "TXT", data: tlsrptData(domain), comment: "TLSRPT (RFC 8460)"))
        records.append(ZoneRecord(name: "_dmarc." + apex, type: "TXT", data: dmarcData(domain), comment: "DMARC (RFC 7489)"))
        let hosts: [String]
        do {
            hosts = Set(try await resolver.mx(try DNSName(domain.ascii)).records().filter { !$0.isNullMX }.map { $0.exchange.description.lowercased() }).sorted()
        } catch {
            return records + [ZoneRecord(name: "", type: "TLSA", data: "", comment: "TLSA: the MX look-up failed: \(error)")]
        }
        for host in hosts {
            let tlsa = "_25._tcp.\(host)."
            do {
                let addresses = try await resolver.addresses(of: try DNSName(host))
                guard let address = addresses.all.first else { throw DoctorLookupFailure(description: "\(host) has no address") }
                let probe = try await probe(host: host, address: address)
                records.append(ZoneRecord(name: tlsa, type: "TLSA", data: Self.tlsaData(probe.chain[0]), comment: "DANE-EE: the key \(host) presents now"))
            } catch {
                records.append(ZoneRecord(name: tlsa, type: "TLSA", data: "", comment: "TLSA for \(host): the STARTTLS probe failed: \(error)"))
            }
            for next in configuration.nextCertificates {
                records.append(ZoneRecord(name: tlsa, type: "TLSA", data: Self.tlsaData(next), comment: "DANE-EE: the next key (\(next.subject))"))
            }
        }
        return records
    }

    /// `3 1 1 <SHA-256 of the SubjectPublicKeyInfo>`: RFC 7671 §5.1's recommended record, which
    /// survives a certificate renewal that keeps the key.
    static func tlsaData(_ certificate: PeerCertificate) -> String {
        "3 1 1 " + Hex.string(TLSAMatching.data(of: certificate, selector: 1, matchingType: 1), uppercase: true)
    }

    func caaProperties(_ domain: DomainName) -> [String] {
        var properties = configuration.caaIssuers.map { "0 issue \"\($0)\"" }
        if !configuration.caaIssuers.isEmpty, !configuration.caaIodef.isEmpty {
            properties.append("0 iodef \"\(configuration.expand(configuration.caaIodef, for: domain))\"")
        }
        return properties
    }

    func zoneCAA(_ domain: DomainName) -> [String] {
        caaProperties(domain).map { "\(domain.ascii). IN CAA \($0)" }
    }

    func zoneTLSA(host: String, certificate: PeerCertificate) -> String {
        "_25._tcp.\(host). IN TLSA \(Self.tlsaData(certificate))"
    }

    func tlsrptData(_ domain: DomainName) -> String {
        "\"v=TLSRPTv1; rua=\(configuration.expand(configuration.tlsrptReports, for: domain))\""
    }

    func zoneTLSRPT(_ domain: DomainName) -> String {
        "_smtp._tls.\(domain.ascii). IN TXT \(tlsrptData(domain))"
    }

    func dmarcData(_ domain: DomainName) -> String {
        let reports = configuration.dmarcReports.isEmpty ? "" : "; rua=\(configuration.expand(configuration.dmarcReports, for: domain))"
        return "\"v=DMARC1; p=\(configuration.dmarcPolicy.rawValue)\(reports)\""
    }

    func zoneDMARC(_ domain: DomainName) -> String {
        "_dmarc.\(domain.ascii). IN TXT \(dmarcData(domain))"
    }
}

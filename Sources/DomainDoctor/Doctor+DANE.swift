import Core
import DNS
import Foundation
import HTTPFetch
import MailPolicy

extension DomainDoctor {
    /// DANE for SMTP (RFC 7672): each MX host has TLSA records at `_25._tcp.<mx>` under a secure
    /// chain, and on every one of its addresses the certificate it presents after STARTTLS matches at
    /// least one of them. Records that match nothing presented are named: during a roll-over one is the
    /// next key (recognised when it matches `doctor.dane.nextCertificates`), otherwise it is stale.
    func checkDANE(_ domain: DomainName, mx: Result<DNSAnswer<MXRecord>, DNSError>) async -> [DoctorFinding] {
        guard case .success(let answer) = mx else {
            return [DoctorFinding("dane", .fail, "the MX look-up failed, so no MX host can be checked", fix: "make the domain's name servers answer")]
        }
        let hosts: [MXRecord]
        do { hosts = try answer.records() } catch {
            return [DoctorFinding("dane", .fail, "the MX look-up failed: \(error)")]
        }
        if hosts.contains(where: \.isNullMX) { return [DoctorFinding("dane", .pass, "null MX: the domain receives no mail")] }
        guard !hosts.isEmpty else {
            return [DoctorFinding("dane", .fail, "the domain publishes no MX record: DANE applies to MX hosts (RFC 7672 section 2.2.1)",
                                  fix: "publish MX records for our mail servers")]
        }
        var findings: [DoctorFinding] = []
        for host in Set(hosts.map { $0.exchange.description.lowercased() }).sorted() {
            findings += await checkDANE(host: host)
        }
        return findings
    }

    private func checkDANE(host: String) async -> [DoctorFinding] {
        let name: DNSName
        do { name = try DNSName(host) } catch { return [DoctorFinding("dane", .fail, subject: host, "\(error)")] }
        let tlsaName = "_25._tcp.\(host)"
        let records: [TLSARecord]
        let addresses: [IPAddress]
        do {
            let tlsa = try await resolver.tlsa(try name.prepending("_25._tcp"))
            records = try tlsa.records()
            if !records.isEmpty, !tlsa.isSecure {
                return [DoctorFinding("dane", .fail, subject: host, "the TLSA records at \(tlsaName) are \(tlsa.security), not DNSSEC-secure: senders ignore them",
                                      fix: "sign the zone of \(host) and publish its DS record")]
            }
            let found = try await resolver.addresses(of: name)
            if let failure = found.failure { throw DoctorLookupFailure(description: failure) }
            addresses = Array(found.all.prefix(8))
            if !records.isEmpty, found.security != .secure {
                return [DoctorFinding("dane", .fail, subject: host, "the addresses of \(host) are \(found.security): DANE needs them DNSSEC-secure (RFC 7672 section 2.2.2)",
                                      fix: "sign the zone of \(host)")]
            }
        } catch {
            return [DoctorFinding("dane", .fail, subject: host, "look-up failed: \(error)", fix: "make the name servers of \(host) answer")]
        }
        guard !addresses.isEmpty else {
            return [DoctorFinding("dane", .fail, subject: host, "\(host) has no address", fix: "publish its A/AAAA records")]
        }
        var findings: [DoctorFinding] = []
        for address in addresses {
            let subject = "\(host) [\(address)]"
            guard address.isPublic || configuration.allowPrivateAddresses else {
                findings.append(DoctorFinding("dane", .fail, subject: subject, "\(address) is not a public address: senders cannot reach it", fix: "publish only public addresses for \(host)"))
                continue
            }
            let probe: SMTPStartTLSProbe
            do {
                probe = try await self.probe(host: host, address: address)
            } catch HTTPFetchError.connectFailed(_, let reason) where address.isIPv6 {
                // Often this machine has no IPv6 route rather than the MX a broken address.
                findings.append(DoctorFinding("dane", .warn, subject: subject, "no connection over IPv6 from here (\(reason)): not checked",
                                              fix: "run the doctor where IPv6 reaches the MX, or check that \(host) listens on \(address)"))
                continue
            } catch {
                findings.append(DoctorFinding("dane", .fail, subject: subject, "STARTTLS probe failed: \(error)",
                                              fix: "the MX must accept connections on port \(configuration.smtpPort) and offer STARTTLS"))
                continue
            }
            let current = zoneTLSA(host: host, certificate: probe.chain[0])
            guard !records.isEmpty else {
                findings.append(DoctorFinding("dane", .fail, subject: subject, "no TLSA records at \(tlsaName): DANE senders cannot authenticate \(host)",
                                              fix: "publish:\n" + ([current] + configuration.nextCertificates.map { zoneTLSA(host: host, certificate: $0) }).joined(separator: "\n")))
                continue
            }
            var matching: [String] = [], next: [String] = [], stale: [String] = [], unusable: [String] = [], unverified: [String] = []
            for record in records {
                let text = Self.presentation(record)
                switch TLSAMatching.match(record, chain: probe.chain, host: host) {
                case .matches: matching.append(text)
                case .unusable(let why): unusable.append("\(text) (\(why))")
                case .anchorDoesNotVerify(let why): unverified.append("\(text) (its trust anchor is presented, but the chain does not verify to it for \(host): \(why))")
                case .noMatch where configuration.nextCertificates.contains(where: {
                    TLSAMatching.data(of: $0, selector: record.selector, matchingType: record.matchingType) == record.data
                }):
                    next.append(text)
                case .noMatch:
                    stale.append(text)
                }
            }
            let presented = "presents \(probe.chain[0].subject.isEmpty ? "a certificate" : probe.chain[0].subject) (expires \(probe.chain[0].notAfter.formatted(.iso8601)))"
            guard !matching.isEmpty else {
                findings.append(DoctorFinding("dane", .fail, subject: subject,
                                              "no TLSA record at \(tlsaName) matches the certificate it \(presented): DANE senders defer mail to it. Records: \((stale + next + unverified + unusable).joined(separator: "; "))",
                                              fix: "publish (and remove records of keys no longer used):\n" + ([current] + configuration.nextCertificates.map { zoneTLSA(host: host, certificate: $0) }).joined(separator: "\n")))
                continue
            }
            var notes = ["it \(presented), matched by \(matching.joined(separator: ", "))"]
            if !next.isEmpty { notes.append("next key published: \(next.joined(separator: ", "))") }
            // After the switch the next certificate is the presented one: nothing left to publish ahead.
            let nextPresented = configuration.nextCertificates.contains { $0.subjectPublicKeyInfo == probe.chain[0].subjectPublicKeyInfo }
            if !configuration.nextCertificates.isEmpty, next.isEmpty, !nextPresented {
                findings.append(DoctorFinding("dane", .warn, subject: subject, "no TLSA record for the next certificate (doctor.dane.nextCertificates): switching to it now would break DANE",
                                              fix: "publish, at least two TTLs before switching:\n" + configuration.nextCertificates.map { zoneTLSA(host: host, certificate: $0) }.joined(separator: "\n")))
            }
            if !stale.isEmpty { notes.append("also published, matching nothing presented (a next key, or stale): \(stale.joined(separator: ", "))") }
            if !unverified.isEmpty {
                findings.append(DoctorFinding("dane", .warn, subject: subject, unverified.joined(separator: "; "), fix: "send the whole chain up to the trust anchor, with \(host) in the certificate"))
            }
            if !unusable.isEmpty {
                findings.append(DoctorFinding("dane", .warn, subject: subject, "unusable for SMTP: \(unusable.joined(separator: "; "))", fix: "use DANE-EE(3) or DANE-TA(2) records"))
            }
            findings.append(DoctorFinding("dane", .pass, subject: subject, notes.joined(separator: "; ")))
        }
        return findings
    }

    /// A record as zone-file text: `3 1 1 ABCD…`.
    static func presentation(_ record: TLSARecord) -> String {
        "\(record.usage) \(record.selector) \(record.matchingType) \(Hex.string(record.data, uppercase: true))"
    }
}

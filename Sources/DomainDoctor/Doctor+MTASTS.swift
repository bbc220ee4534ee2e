import Core
import DNS
import Foundation
import HTTPFetch
import MailPolicy

extension DomainDoctor {
    /// MTA-STS (RFC 8461): one valid `_mta-sts` record whose id is our served policy's; the policy host
    /// serves that policy over HTTPS with a valid certificate; its mode is enforce; its mx patterns cover
    /// every MX the domain publishes.
    func checkMTASTS(_ domain: DomainName, mx: Result<DNSAnswer<MXRecord>, DNSError>) async -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let ours = configuration.ownPolicy
        if ours == nil || !configuration.ownPolicyDomains.contains(domain.ascii) {
            findings.append(DoctorFinding("mta-sts", .warn, "\(domain) is not in transport.ownPolicy.domains: palisade-transport serves no policy for it",
                                          fix: "add it to transport.ownPolicy.domains (with mode enforce and our MX hosts in transport.ownPolicy.mx)"))
        }
        let expected = ours.map { "_mta-sts.\(domain.ascii). IN TXT \"v=STSv1; id=\($0.recordID)\"" }
        switch await txt("_mta-sts.\(domain.ascii)") {
        case .failure(let failure):
            findings.append(DoctorFinding("mta-sts", .fail, failure.description, fix: "make the domain's name servers answer"))
        case .success(let (records, _)):
            switch MTASTSRecord.discover(records) {
            case .none:
                findings.append(DoctorFinding("mta-sts", .fail, "no _mta-sts TXT record: senders do not look for a policy", fix: expected.map { "publish:\n\($0)" }))
            case .unusable(let problem):
                findings.append(DoctorFinding("mta-sts", .fail, "the _mta-sts record is unusable: \(problem); senders treat the domain as having no policy", fix: expected.map { "publish only:\n\($0)" }))
            case .record(let record):
                if let ours, record.id != ours.recordID {
                    findings.append(DoctorFinding("mta-sts", .fail, "the record's id \(record.id) is not our served policy's (\(ours.recordID)): senders holding an older policy will not fetch the current one",
                                                  fix: "publish:\n\(expected!)"))
                }
            }
        }
        // Fetched exactly as palisade-transport fetches senders' policies: only 200, text/plain, no redirect, 64 KiB.
        let lookup = MTASTSLookup(resolver: resolver, fetcher: fetcher, options: MTASTSLookup.Options(
            port: configuration.httpsPort, allowPrivateAddresses: configuration.allowPrivateAddresses, timeout: configuration.timeout))
        let url = lookup.policyURL(domain)
        let served: MTASTSPolicy
        do {
            served = try await lookup.fetch(domain)
        } catch {
            findings.append(DoctorFinding("mta-sts", .fail, subject: url.absoluteString, "senders get no policy: \(error)",
                                          fix: "mta-sts.\(domain.ascii) needs an address, a certificate from a public CA, and palisade-transport's HTTPS listener behind it"))
            return findings
        }
        if let ours, served != ours {
            findings.append(DoctorFinding("mta-sts", .fail, subject: url.absoluteString,
                                          "the served policy (\(served.lines.dropFirst().joined(separator: ", "))) is not ours (\(ours.lines.dropFirst().joined(separator: ", ")))",
                                          fix: "point mta-sts.\(domain.ascii) at palisade-transport's HTTPS listener"))
        }
        switch served.mode {
        case .enforce: break
        case .testing:
            findings.append(DoctorFinding("mta-sts", .warn, "the policy's mode is testing: senders report failures but still deliver without TLS",
                                          fix: "set transport.ownPolicy.mode to enforce once TLS reports show no failures"))
        case .none:
            findings.append(DoctorFinding("mta-sts", .fail, "the policy's mode is none: it protects nothing", fix: "set transport.ownPolicy.mode to enforce"))
        }
        if served.maxAge < 86_400 {
            findings.append(DoctorFinding("mta-sts", .warn, "max_age is \(served.maxAge) s: senders drop the policy within a day (RFC 8461 recommends weeks)",
                                          fix: "set transport.ownPolicy.maxAge to at least 1d, better 7d or more"))
        }
        switch mx {
        case .failure(let error):
            findings.append(DoctorFinding("mta-sts", .fail, "the MX look-up failed, so whether the policy covers every MX is unknown: \(error)"))
        case .success(let answer):
            guard let hosts = try? answer.records() else {
                findings.append(DoctorFinding("mta-sts", .fail, "the MX look-up failed (\(answer.outcome)), so whether the policy covers every MX is unknown"))
                break
            }
            if hosts.isEmpty {
                findings.append(DoctorFinding("mta-sts", .fail, "the domain publishes no MX record: an MTA-STS policy applies to MX hosts", fix: "publish MX records for our mail servers"))
            }
            let uncovered = hosts.filter { host in
                !host.isNullMX && !served.mx.contains { $0.matches(hostName: host.exchange.description.lowercased()) }
            }
            if !uncovered.isEmpty {
                findings.append(DoctorFinding("mta-sts", .fail, "MX \(uncovered.map(\.exchange.description).joined(separator: ", ")) not covered by the policy's mx patterns: enforcing senders will not deliver there",
                                              fix: "add them to transport.ownPolicy.mx (and publish the new id)"))
            }
        }
        if findings.isEmpty {
            findings.append(DoctorFinding("mta-sts", .pass, "record id \(served.recordID) matches the policy served at \(url.host() ?? ""): mode enforce, covering every MX"))
        }
        return findings
    }
}

import Core
import DNS
import MailPolicy

extension DomainDoctor {
    /// DMARC (RFC 7489): the `_dmarc` record that applies to the domain (its own, else its
    /// organisational domain's by the Public Suffix List, §6.6.3) is valid and asks for quarantine or
    /// reject, for all of the mail (pct), not in test mode; aggregate reports are requested, and an
    /// external report address has authorised them (§7.1).
    func checkDMARC(_ domain: DomainName) async -> [DoctorFinding] {
        let publish = zoneDMARC(domain)
        let organizational = configuration.publicSuffixList.organizationalDomain(of: domain)
        var owner = domain
        var record: DMARCRecord?
        for candidate in owner == organizational ? [domain] : [domain, organizational] {
            switch await txt("_dmarc.\(candidate.ascii)") {
            case .failure(let failure):
                return [DoctorFinding("dmarc", .fail, failure.description, fix: "make the domain's name servers answer")]
            case .success(let (records, _)):
                let discovery = DMARCRecord.discover(records)
                switch discovery {
                case .none:
                    continue
                case .several, .malformed:
                    let problem = discovery.problem ?? ""
                    let effect = if case .several = discovery { "RFC 7489 receivers apply no policy, RFC 9989 receivers look for a parent's record" }
                        else { "receivers apply at most p=none (RFC 7489 section 6.6.3)" }
                    return [DoctorFinding("dmarc", .fail, subject: "_dmarc.\(candidate.ascii)", "the DMARC record is unusable: \(problem); \(effect)",
                                          fix: "publish only:\n\(candidate == domain ? publish : zoneDMARC(candidate))")]
                case .record(let found):
                    owner = candidate
                    record = found
                }
            }
            if record != nil { break }
        }
        guard let record else {
            return [DoctorFinding("dmarc", .fail, "no DMARC record at _dmarc.\(domain.ascii)\(organizational == domain ? "" : " nor at its organisational domain's _dmarc.\(organizational.ascii)"): receivers apply no policy to mail forged in our name",
                                  fix: "publish:\n\(publish)")]
        }
        let inherited = owner == domain ? "" : " (from the organisational domain \(owner.ascii))"
        // A subdomain gets sp (RFC 9989: np when it does not exist; ours do), else p.
        let applied = owner == domain ? record.policy : (record.subdomainPolicy ?? record.policy)
        var findings: [DoctorFinding] = []
        switch applied {
        case nil:
            findings.append(DoctorFinding("dmarc", .fail, "the record\(inherited) has no p tag: receivers treat it as p=none at best", fix: "publish:\n\(publish)"))
        case .none?:
            findings.append(DoctorFinding("dmarc", .fail, "the policy\(inherited) is none: forged mail is delivered (monitoring only)", fix: "publish:\n\(publish)"))
        case let policy?:
            if record.percent < 100 {
                findings.append(DoctorFinding("dmarc", .warn, "pct=\(record.percent)\(inherited): the policy applies to only \(record.percent)% of failing mail", fix: "remove pct (default 100)"))
            }
            if record.testing {
                findings.append(DoctorFinding("dmarc", .warn, "t=y\(inherited): receivers apply one step less than p=\(policy.rawValue)", fix: "remove t=y"))
            }
            if owner == domain, record.subdomainPolicy == DMARCRecord.Policy.none {
                findings.append(DoctorFinding("dmarc", .warn, "sp=none: mail forged from our subdomains is delivered", fix: "remove sp or set it to quarantine or reject"))
            }
        }
        if record.aggregateReports.isEmpty {
            findings.append(DoctorFinding("dmarc", .warn, "no rua\(inherited): no aggregate reports show who sends in our name", fix: "add rua=mailto:… (doctor.dmarc.rua)"))
        }
        for uri in record.aggregateReports + record.failureReports where uri.lowercased().hasPrefix("mailto:") {
            guard let at = uri.lastIndex(of: "@"), let target = try? DomainName(String(uri[uri.index(after: at)...]).split(separator: "?").first.map(String.init) ?? "") else {
                findings.append(DoctorFinding("dmarc", .warn, subject: uri, "not a mail address"))
                continue
            }
            let targetOrganization = configuration.publicSuffixList.organizationalDomain(of: target)
            guard targetOrganization != configuration.publicSuffixList.organizationalDomain(of: owner) else { continue }
            // RFC 7489 §7.1: the external destination confirms with <owner>._report._dmarc.<target>.
            let confirmation = "\(owner.ascii)._report._dmarc.\(target.ascii)"
            switch await txt(confirmation) {
            case .success(let (records, _)) where records.contains(where: { $0.hasPrefix("v=DMARC1") }):
                continue
            case .success:
                findings.append(DoctorFinding("dmarc", .warn, subject: uri, "\(target.ascii) has not agreed to receive our reports: receivers send none there (RFC 7489 section 7.1)",
                                              fix: "publish at the report domain:\n\(confirmation). IN TXT \"v=DMARC1\""))
            case .failure(let failure):
                findings.append(DoctorFinding("dmarc", .warn, subject: uri, failure.description))
            }
        }
        if findings.isEmpty {
            findings.append(DoctorFinding("dmarc", .pass, "p=\(applied!.rawValue)\(inherited), with aggregate reports to \(record.aggregateReports.joined(separator: ", "))"))
        } else if !findings.contains(where: { $0.status == .fail }), let applied {
            findings.append(DoctorFinding("dmarc", .pass, "p=\(applied.rawValue)\(inherited)"))
        }
        return findings
    }
}

import Core
import DNS
import Foundation

extension DomainDoctor {
    /// CAA (RFC 8659): the relevant record set (the domain's, else the closest ancestor's, §3) exists,
    /// its `issue` and `issuewild` properties allow only the configured CAs, it has an `iodef`, and no
    /// critical property a CA does not know blocks issuance.
    func checkCAA(_ domain: DomainName) async -> [DoctorFinding] {
        let publish = zoneCAA(domain).joined(separator: "\n")
        var found: (owner: String, records: [CAARecord])?
        // Up the tree to the top-level domain (RFC 8659 §3: every name below the root).
        let labels = domain.labels
        for start in 0..<labels.count {
            let name = labels[start...].joined(separator: ".")
            do {
                let records = try await resolver.caa(try DNSName(name)).records()
                if !records.isEmpty { found = (name, records); break }
            } catch {
                return [DoctorFinding("caa", .fail, "the CAA look-up of \(name) failed: \(error); a CA must then refuse to issue",
                                      fix: "make the domain's name servers answer CAA queries")]
            }
        }
        guard let (owner, records) = found else {
            return [DoctorFinding("caa", .fail, "no CAA record at \(domain) or above it: any CA may issue certificates for it",
                                  fix: configuration.caaIssuers.isEmpty ? "set doctor.caa.issuers, then publish what platformctl dns records prints" : "publish:\n\(publish)")]
        }
        let inherited = owner == domain.ascii ? "" : " (inherited from \(owner))"
        var findings: [DoctorFinding] = []
        let known: Set<String> = ["issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"]
        for record in records where record.isCritical && !known.contains(record.tag.lowercased()) {
            findings.append(DoctorFinding("caa", .fail, "critical property \"\(record.tag)\"\(inherited) is unknown to CAs, so they must refuse to issue (RFC 8659 section 4.1)",
                                          fix: "remove it or clear its critical flag"))
        }
        let issue = records.filter { $0.tag.lowercased() == "issue" }.map(Self.issuer)
        let issueWild = records.filter { $0.tag.lowercased() == "issuewild" }.map(Self.issuer)
        let allowed = Set(configuration.caaIssuers)
        if issue.isEmpty {
            findings.append(DoctorFinding("caa", .fail, "no issue property\(inherited): any CA may issue non-wildcard certificates", fix: "publish:\n\(publish)"))
        }
        if allowed.isEmpty {
            findings.append(DoctorFinding("caa", .warn, "doctor.caa.issuers is not set, so whether \(Set(issue + issueWild).filter { !$0.isEmpty }.sorted().joined(separator: ", ")) may issue cannot be judged",
                                          fix: "set doctor.caa.issuers to the CAs we use"))
        } else {
            let strangers = Set(issue + issueWild).filter { !$0.isEmpty && !allowed.contains($0) }.sorted()
            if !strangers.isEmpty {
                findings.append(DoctorFinding("caa", .fail, "CAA\(inherited) allows \(strangers.joined(separator: ", ")), not in doctor.caa.issuers", fix: "publish only:\n\(publish)"))
            }
            let missing = allowed.filter { !issue.contains($0) }.sorted()
            if !issue.isEmpty, !missing.isEmpty {
                findings.append(DoctorFinding("caa", .warn, "\(missing.joined(separator: ", ")) (doctor.caa.issuers) may not issue for \(domain): renewals from it would be refused",
                                              fix: "publish:\n\(publish)"))
            }
            // issuewild, when present, alone decides wildcard certificates (RFC 8659 §4.3).
            let missingWild = allowed.filter { !issueWild.contains($0) }.sorted()
            if !issueWild.isEmpty, !missingWild.isEmpty {
                findings.append(DoctorFinding("caa", .warn, "issuewild\(inherited) leaves out \(missingWild.joined(separator: ", ")) (doctor.caa.issuers): wildcard certificates from it would be refused",
                                              fix: "add it to issuewild, or remove issuewild"))
            }
        }
        if !records.contains(where: { $0.tag.lowercased() == "iodef" }) {
            findings.append(DoctorFinding("caa", .warn, "no iodef property\(inherited): CAs have nowhere to report refused requests",
                                          fix: configuration.caaIodef.isEmpty ? "set doctor.caa.iodef and publish its CAA iodef record" : "publish:\n\(publish)"))
        }
        if findings.isEmpty {
            findings.append(DoctorFinding("caa", .pass, "CAA\(inherited) allows only \(Set(issue + issueWild).filter { !$0.isEmpty }.sorted().joined(separator: ", ")), with an iodef"))
        }
        return findings
    }

    /// The issuer domain of an `issue`/`issuewild` value (RFC 8659 §4.2): before any `;` parameters,
    /// lower-cased; empty means no CA may issue.
    static func issuer(_ record: CAARecord) -> String {
        let value = String(decoding: record.value, as: UTF8.self)
        return (value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
            .trimmingCharacters(in: .whitespaces).lowercased()
    }
}

import Core
import Foundation
import HTTPFetch

extension DomainDoctor {
    /// WKD (draft-koch-openpgp-webkey-service §3.1, §4.5): the policy file is served over the advanced
    /// method (`openpgpkey.<domain>`) and the direct one (the domain itself), each with a valid certificate.
    /// Clients try advanced first and fall back to direct only when `openpgpkey.<domain>` does not exist.
    func checkWKD(_ domain: DomainName) async -> [DoctorFinding] {
        let port = configuration.portSuffix
        let methods = [
            ("advanced", URL(string: "https://openpgpkey.\(domain.ascii)\(port)/.well-known/openpgpkey/\(domain.ascii)/policy")!),
            ("direct", URL(string: "https://\(domain.ascii)\(port)/.well-known/openpgpkey/policy")!),
        ]
        var findings: [DoctorFinding] = []
        for (method, url) in methods {
            do {
                let response = try await fetcher.fetch(configuration.request(.get, url))
                if response.status == 200 {
                    findings.append(DoctorFinding("wkd", .pass, subject: url.absoluteString, "the \(method) method serves the policy file"))
                } else {
                    findings.append(DoctorFinding("wkd", .fail, subject: url.absoluteString, "the \(method) method answers HTTP \(response.status) for the policy file",
                                                  fix: "route \(url.host() ?? "") to palisade-wkd"))
                }
            } catch {
                findings.append(DoctorFinding("wkd", .fail, subject: url.absoluteString, "the \(method) method is not served: \(error)",
                                              fix: "\(url.host() ?? "") needs an address, a certificate from a public CA, and palisade-wkd behind it"))
            }
        }
        return findings
    }
}

import Core
import DNS
import Foundation
import HTTPFetch
import MailPolicy

extension DomainDoctor {
    /// TLSRPT (RFC 8460 §3): one valid `_smtp._tls` record, and each `rua` destination reachable: an
    /// https URL takes a POST over HTTPS with a valid certificate (an empty report, `{}`, which a report
    /// endpoint refuses and stores nothing of; 404, 405, a redirect or a 5xx mean reports are lost), a
    /// mailto address's domain accepts mail (MX or address records).
    func checkTLSRPT(_ domain: DomainName) async -> [DoctorFinding] {
        let publish = zoneTLSRPT(domain)
        switch await txt("_smtp._tls.\(domain.ascii)") {
        case .failure(let failure):
            return [DoctorFinding("tlsrpt", .fail, failure.description, fix: "make the domain's name servers answer")]
        case .success(let (records, _)):
            switch TLSRPTRecord.discover(records) {
            case .none:
                return [DoctorFinding("tlsrpt", .fail, "no _smtp._tls TXT record: senders send no TLS reports", fix: "publish:\n\(publish)")]
            case .unusable(let problem):
                return [DoctorFinding("tlsrpt", .fail, "the _smtp._tls record is unusable: \(problem); senders send no reports", fix: "publish only:\n\(publish)")]
            case .record(let record):
                var findings: [DoctorFinding] = []
                for destination in record.destinations {
                    findings.append(await reachability(of: destination))
                }
                return findings
            }
        }
    }

    private func reachability(of destination: TLSRPTRecord.Destination) async -> DoctorFinding {
        switch destination {
        case .https(let text):
            guard let url = URL(string: text) else { return DoctorFinding("tlsrpt", .fail, subject: text, "the rua is not a URL") }
            do {
                var request = configuration.request(.post, url)
                request.headers = [("Content-Type", "application/tlsrpt+json")]
                request.body = Array("{}".utf8)
                let response = try await fetcher.fetch(request)
                switch response.status {
                case 404, 405, 300...399:
                    return DoctorFinding("tlsrpt", .fail, subject: text, "no report endpoint there: HTTP \(response.status) to a POST (senders follow no redirect)",
                                         fix: "correct the rua (palisade-transport takes reports at tlsrpt.path)")
                case 500...:
                    return DoctorFinding("tlsrpt", .fail, subject: text, "the report endpoint fails: HTTP \(response.status)", fix: "check the service behind it")
                default:
                    return DoctorFinding("tlsrpt", .pass, subject: text, "takes POSTs over HTTPS with a valid certificate (HTTP \(response.status) to an empty report)")
                }
            } catch {
                return DoctorFinding("tlsrpt", .fail, subject: text, "reports cannot be delivered: \(error)",
                                     fix: "the host needs an address, a certificate from a public CA, and palisade-transport's tlsrpt.path behind it")
            }
        case .mail(let address):
            guard let at = address.lastIndex(of: "@"), let name = try? DNSName(String(address[address.index(after: at)...])) else {
                return DoctorFinding("tlsrpt", .fail, subject: "mailto:\(address)", "not a mail address")
            }
            do {
                let mx = try await resolver.mx(name).records()
                if mx.contains(where: \.isNullMX) { return DoctorFinding("tlsrpt", .fail, subject: "mailto:\(address)", "\(name) publishes a null MX: it accepts no mail") }
                if !mx.isEmpty { return DoctorFinding("tlsrpt", .pass, subject: "mailto:\(address)", "\(name) accepts mail (MX \(mx.map(\.exchange.description).joined(separator: ", ")))") }
                let addresses = try await resolver.addresses(of: name)
                guard !addresses.all.isEmpty else {
                    return DoctorFinding("tlsrpt", .fail, subject: "mailto:\(address)", "\(name) has neither MX nor address records: reports cannot be delivered")
                }
                return DoctorFinding("tlsrpt", .pass, subject: "mailto:\(address)", "\(name) has no MX but addresses (implicit MX)")
            } catch {
                return DoctorFinding("tlsrpt", .fail, subject: "mailto:\(address)", "look-up failed: \(error)")
            }
        }
    }
}

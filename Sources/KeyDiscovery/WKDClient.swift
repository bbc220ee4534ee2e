import Core
import DNS
import Foundation
import HTTPFetch
import OpenPGP

/// Asks an address's own domain for its key: the Web Key Directory (draft-koch-openpgp-webkey-service
/// §3.1).
///
/// The advanced method (`https://openpgpkey.<domain>/.well-known/openpgpkey/<domain>/hu/<hash>?l=<local>`)
/// comes first; the direct method (`https://<domain>/.well-known/openpgpkey/hu/<hash>?l=<local>`) only
/// when the `openpgpkey` host does not exist, as the draft says ("Only if the required sub-domain does
/// not exist, they SHOULD fall back to the direct method") and GnuPG does. A DNS failure of that host
/// (SERVFAIL, bogus DNSSEC, timeout) is a failure of WKD, never a reason to try the other method. The
/// hash is the draft's: SHA-1 of the local part with ASCII letters lower-cased, z-base-32.
public struct WKDClient: Sendable {
    public enum Method: String, Sendable { case advanced, direct }

    let fetcher: HTTPFetcher
    let resolver: DNSResolver
    let configuration: KeyDiscoveryConfiguration

    public init(fetcher: HTTPFetcher, resolver: DNSResolver, configuration: KeyDiscoveryConfiguration) {
        self.fetcher = fetcher
        self.resolver = resolver
        self.configuration = configuration
    }

    /// The URL `method` fetches for `address`.
    public func url(for address: EmailAddress, method: Method) -> URL {
        let domain = address.domain.ascii
        let port = configuration.wkdPort == 443 ? "" : ":\(configuration.wkdPort)"
        let hash = WKDHash.hash(localPart: address.localPart)
        let local = WKDHash.localPartParameter(address.localPart)
        switch method {
        case .advanced:
            return URL(string: "https://openpgpkey.\(domain)\(port)/.well-known/openpgpkey/\(domain)/hu/\(hash)?l=\(local)")!
        case .direct:
            return URL(string: "https://\(domain)\(port)/.well-known/openpgpkey/hu/\(hash)?l=\(local)")!
        }
    }

    /// What the address's Web Key Directory holds for it at `time`.
    public func lookup(_ address: EmailAddress, at time: Date) async -> (attempt: SourceAttempt, keys: [DiscoveredKey]) {
        let domain = address.domain.ascii
        var method = Method.advanced
        switch await exists("openpgpkey.\(domain)") {
        case .yes:
            method = .advanced
        case .no:
            method = .direct
            switch await exists(domain) {
            case .yes:
                break
            case .no:
                return (SourceAttempt(source: .wkd, method: method.rawValue, result: .notFound,
                                      detail: "neither openpgpkey.\(domain) nor \(domain) has an address"), [])
            case .failed(let reason):
                return (SourceAttempt(source: .wkd, method: method.rawValue, result: .failed, detail: "cannot resolve \(domain): \(reason)"), [])
            }
        case .failed(let reason):
            return (SourceAttempt(source: .wkd, method: method.rawValue, result: .failed,
                                  detail: "cannot resolve openpgpkey.\(domain): \(reason)"), [])
        }
        let url = url(for: address, method: method)
        func attempt(_ result: SourceAttempt.Result, _ detail: String?, retryAfter: Date? = nil) -> SourceAttempt {
            SourceAttempt(source: .wkd, method: method.rawValue, url: url.absoluteString, result: result, detail: detail, retryAfter: retryAfter)
        }
        var request = HTTPRequest(url: url, maxBodySize: configuration.maxKeySize, maxRedirects: 3, timeout: configuration.timeout)
        request.publicAddressesOnly = !configuration.allowPrivateAddresses
        request.logsHostOnly = true
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            return (attempt(.failed, "\(error)"), [])
        }
        switch response.status {
        case 200:
            do {
                let (keys, refused) = try DiscoveredKeys.sort(response.body, for: address, at: time)
                if keys.isEmpty { return (attempt(.notFound, DiscoveredKeys.summary(refused)), []) }
                return (attempt(.found, DiscoveredKeys.summary(refused)), keys)
            } catch {
                return (attempt(.failed, "the host served something that is not an OpenPGP key: \(error.message)"), [])
            }
        case 404, 410:
            return (attempt(.notFound, "HTTP \(response.status)"), [])
        case 429, 503:
            let retryAfter = RetryAfter.parse(response.header("Retry-After"), now: time)
            return (attempt(.failed, "HTTP \(response.status)", retryAfter: retryAfter), [])
        default:
            return (attempt(.failed, "HTTP \(response.status)"), [])
        }
    }

    enum Existence: Equatable { case yes, no, failed(String) }

    /// Whether `host` has an address: no when the name or its A/AAAA records do not exist; a failure
    /// when the resolver could not tell (a bogus answer included). Addresses that are not public count as
    /// existing: the fetch then refuses them (unless allowed), and the direct method is not tried instead.
    func exists(_ host: String) async -> Existence {
        let name: DNSName
        do { name = try DNSName(host) } catch { return .no }
        let found: DNSAddresses
        do {
            found = try await resolver.addresses(of: name)
        } catch {
            return .failed("\(error)")
        }
        if found.failure == nil { return .yes }
        for security in [found.v4.security, found.v6.security] {
            if case .bogus(let reason) = security { return .failed("DNSSEC validation failed: \(reason)") }
        }
        func absent<R>(_ outcome: DNSOutcome<R>) -> Bool {
            switch outcome {
            case .noRecords, .noSuchName: true
            case .records(let records): records.isEmpty
            case .failed: false
            }
        }
        if absent(found.v4.outcome) && absent(found.v6.outcome) { return .no }
        return .failed(found.failure ?? "no usable answer")
    }
}

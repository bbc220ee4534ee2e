import Core
import DNS
import Foundation
import HTTPFetch

/// The network half of MTA-STS (RFC 8461 §3): a domain's `_mta-sts` TXT record over DNS, and its policy
/// over HTTPS from `https://mta-sts.<domain>/.well-known/mta-sts.txt`, WebPKI-validated, no redirects,
/// only a 200 with a `text/plain` body of at most 64 KiB.
public struct MTASTSLookup: Sendable {
    let resolver: DNSResolver
    let fetcher: HTTPFetcher
    let options: Options

    public struct Options: Sendable {
        /// The policy host's port: 443 (RFC 8461 §3.3); another only for test worlds.
        public var port: Int
        /// Whether policy hosts may resolve to loopback and private addresses (test worlds only).
        public var allowPrivateAddresses: Bool
        /// The policy fetch's deadline, look-ups included.
        public var timeout: Duration

        public init(port: Int = 443, allowPrivateAddresses: Bool = false, timeout: Duration = .seconds(10)) {
            self.port = port
            self.allowPrivateAddresses = allowPrivateAddresses
            self.timeout = timeout
        }
    }

    public init(resolver: DNSResolver, fetcher: HTTPFetcher, options: Options) {
        self.resolver = resolver
        self.fetcher = fetcher
        self.options = options
    }

    /// What the `_mta-sts` TXT look-up found. DNSSEC is not required for it (RFC 8461 §8.1), but a bogus
    /// or failed answer is a failure, not "no record".
    public enum Discovered: Sendable, Equatable {
        case record(MTASTSRecord)
        case none
        /// Several STS records, or a malformed one: no policy is available (a cached one still holds).
        case unusable(String)
        case failed(String)
    }

    public func discover(_ domain: DomainName) async -> Discovered {
        do {
            let answer = try await resolver.txt(try DNSName("_mta-sts." + domain.ascii))
            switch answer.outcome {
            case .failed(let reason): return .failed("the _mta-sts TXT look-up failed: \(reason)")
            case .noRecords, .noSuchName: return .none
            case .records(let records):
                switch MTASTSRecord.discover(records.map(\.text)) {
                case .record(let record): return .record(record)
                case .none: return .none
                case .unusable(let reason): return .unusable(reason)
                }
            }
        } catch {
            return .failed("the _mta-sts TXT look-up failed: \(error)")
        }
    }

    /// The policy URL of `domain`.
    public func policyURL(_ domain: DomainName) -> URL {
        let port = options.port == 443 ? "" : ":\(options.port)"
        return URL(string: "https://mta-sts.\(domain.ascii)\(port)/.well-known/mta-sts.txt")!
    }

    /// Fetches and parses the policy; every way it can fail is an `MTASTSError` saying which.
    public func fetch(_ domain: DomainName) async throws(MTASTSError) -> MTASTSPolicy {
        var request = HTTPRequest(url: policyURL(domain), maxBodySize: MTASTSPolicy.maximumSize, maxRedirects: 0, timeout: options.timeout)
        request.publicAddressesOnly = !options.allowPrivateAddresses
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            throw MTASTSError("fetching \(request.url.absoluteString) failed: \(error)")
        }
        // RFC 8461 §3.3: "Senders [...] MUST NOT follow redirects"; only 200 is a policy.
        guard response.status == 200 else { throw MTASTSError("\(request.url.absoluteString) answered HTTP \(response.status), not 200") }
        let mediaType = response.header("content-type")?.split(separator: ";").first?.trimmingWhitespace().lowercased()
        guard mediaType == "text/plain" else {
            throw MTASTSError("\(request.url.absoluteString) served \(mediaType.map { "\"\($0.prefix(60))\"" } ?? "no media type"), not text/plain")
        }
        do {
            return try MTASTSPolicy.parse(response.body)
        } catch {
            throw MTASTSError("the policy at \(request.url.absoluteString) is invalid: \(error)")
        }
    }
}

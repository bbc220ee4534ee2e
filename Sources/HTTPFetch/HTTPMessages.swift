import DNS
import Foundation

/// One HTTPS request. Only `https` URLs are fetched; the body limit and timeouts default to the
/// fetcher's `http.*` settings and a caller may tighten them (an MTA-STS policy is at most 64 KiB).
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    public var method: Method
    public var url: URL
    /// Extra request headers, e.g. `Content-Type` for a POST.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Largest response body accepted; a larger one is an error, never truncated. nil: `http.maxBodySize`,
    /// which is also the most a request may ask for.
    public var maxBodySize: Int?
    /// Redirects to follow (each target resolved and pinned like the first, the caller's headers dropped
    /// when the host changes). 0 refuses any redirect.
    public var maxRedirects: Int
    public var connectTimeout: Duration?
    /// The whole request's deadline, look-ups and redirects included. nil: `http.timeout`.
    public var timeout: Duration?
    /// Connect only to globally reachable addresses (`IPAddress.isPublic`), redirects included: for
    /// fetches whose host someone outside chose (a WKD look-up of any domain), so that they cannot reach
    /// into our own networks.
    public var publicAddressesOnly = false
    /// Log only the URL's host, not its path and query (which may carry a person's address).
    public var logsHostOnly = false

    public init(method: Method = .get, url: URL, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
                maxBodySize: Int? = nil, maxRedirects: Int = 0, connectTimeout: Duration? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.maxBodySize = maxBodySize
        self.maxRedirects = maxRedirects
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    public static func get(_ url: URL, maxBodySize: Int? = nil) -> HTTPRequest {
        HTTPRequest(url: url, maxBodySize: maxBodySize)
    }

    public static func post(_ url: URL, contentType: String, body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: .post, url: url, headers: [("Content-Type", contentType)], body: body)
    }
}

/// A completed HTTP exchange: any status, with where it really came from.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header fields of the final response, names lower-cased, in order.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// The URL that answered (after any redirects the request allowed).
    public let url: URL
    /// The address the connection was made to: one of those DNS returned for the host.
    public let address: IPAddress
    /// The DNSSEC state of the host's address look-up.
    public let addressSecurity: DNSSecurity
    /// "1.1" or "2".
    public let httpVersion: String

    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name == wanted }?.value
    }

    public var isSuccess: Bool { (200...299).contains(status) }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a certificate or handshake was refused, named the way an operator would look for it.
public enum TLSProblem: Sendable, Equatable, CustomStringConvertible {
    case expired
    case notYetValid
    case selfSigned
    /// The chain does not lead to a trusted CA.
    case untrustedIssuer
    /// The certificate is not for the host name in the URL.
    case hostnameMismatch
    /// The handshake itself failed (no common protocol, the server refused the name, …).
    case handshakeFailed(String)
    case other(String)

    public var description: String {
        switch self {
        case .expired: "certificate has expired"
        case .notYetValid: "certificate is not yet valid"
        case .selfSigned: "certificate is self-signed"
        case .untrustedIssuer: "certificate is not issued by a trusted CA"
        case .hostnameMismatch: "certificate does not match the host name"
        case .handshakeFailed(let detail): "TLS handshake failed: \(detail)"
        case .other(let detail): "certificate refused: \(detail)"
        }
    }
}

/// Why a fetch produced no HTTP response. A non-2xx status is not an error: it is an `HTTPResponse`.
public enum HTTPFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    /// The host's addresses could not be found (SERVFAIL, bogus DNSSEC, NXDOMAIN, no A/AAAA, timeout).
    case dnsFailure(host: String, reason: String)
    case connectFailed(host: String, reason: String)
    case tlsFailure(host: String, problem: TLSProblem)
    /// The body grew past the limit; the transfer was stopped there.
    case tooLarge(limit: Int)
    case timedOut(after: Duration)
    /// The server redirected and the request did not allow it (or allowed fewer).
    case redirectRefused(location: String)
    /// The request allows only public addresses and the host has none.
    case nonPublicAddress(host: String)
    /// Any other transfer failure, with libcurl's message.
    case transferFailed(String)

    public var description: String {
        switch self {
        case .invalidURL(let url): "not a fetchable https URL: \(url)"
        case let .dnsFailure(host, reason): "cannot resolve \(host): \(reason)"
        case let .connectFailed(host, reason): "cannot connect to \(host): \(reason)"
        case let .tlsFailure(host, problem): "TLS with \(host) failed: \(problem)"
        case .tooLarge(let limit): "response body is larger than \(limit) bytes"
        case .timedOut(let after): "request timed out after \(after)"
        case .redirectRefused(let location): "redirect to \(location) refused"
        case .nonPublicAddress(let host): "\(host) resolves only to addresses that are not public; refused"
        case .transferFailed(let message): "transfer failed: \(message)"
        }
    }
}

import CCurl
import Core
import DNS
import Foundation
import Logging
import Metrics
import Synchronization

/// Palisade's one answer to "what does this HTTPS URL serve, from the right host?".
///
/// Every request resolves its host with the `DNS` library and pins libcurl to exactly those addresses,
/// so the connection goes where DNSSEC said (or, for an insecure name, where plain DNS said), never
/// through the system resolver or a proxy from the environment. TLS is always verified against the
/// configured CA file or the system store, with the host name checked. Redirects are refused unless the
/// request allows them, and each target is resolved and pinned in turn. Bodies are limited while they
/// are read. Many requests run at once over one libcurl multi handle (see `CurlMulti`).
public final class HTTPFetcher: Sendable {
    public let configuration: HTTPFetchConfiguration
    private let resolver: DNSResolver
    private let multi: CurlMulti
    private let logger: Logger

    public init(configuration: HTTPFetchConfiguration, resolver: DNSResolver, logger: Logger) throws {
        if let caFile = configuration.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw HTTPFetchConfigurationError(message: "http.caFile: cannot read \(caFile)")
        }
        self.configuration = configuration
        self.resolver = resolver
        self.logger = logger
        multi = CurlMulti(maxConnections: configuration.maxConnections)
    }

    public convenience init(_ config: PalisadeConfiguration, resolver: DNSResolver, logger: Logger) throws {
        try self.init(configuration: HTTPFetchConfiguration(config), resolver: resolver, logger: logger)
    }

    deinit { multi.shutdown() }

    /// Fetches `request`. Any HTTP status is a response; no response at all is an `HTTPFetchError`
    /// (or `CancellationError` when the task is cancelled).
    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let started = ContinuousClock.now
        do {
            let response = try await follow(request)
            HTTPFetchMetrics.record(result: "\(response.status / 100)xx", duration: ContinuousClock.now - started)
            return response
        } catch let error as HTTPFetchError {
            HTTPFetchMetrics.record(result: error.metricLabel, duration: ContinuousClock.now - started)
            // Errors quote URLs (a redirect's target, a malformed one): with logsHostOnly only their kind is logged.
            if request.logsHostOnly {
                logger.info("HTTPS fetch failed", metadata: [
                    "http.host": "\(request.url.host(percentEncoded: false) ?? "?")", "error": "\(error.metricLabel)"])
            } else {
                logger.info("HTTPS fetch failed", metadata: ["http.url": "\(request.url.absoluteString)", "error": "\(error)"])
            }
            throw error
        }
    }

    private func follow(_ request: HTTPRequest) async throws -> HTTPResponse {
        var url = request.url
        var headers = request.headers
        var redirectsLeft = request.maxRedirects
        // One deadline for the whole request: redirects and look-ups spend from it too.
        let timeout = request.timeout ?? configuration.timeout
        let deadline = ContinuousClock.now + timeout
        let maxBodySize = min(request.maxBodySize ?? configuration.maxBodySize, configuration.maxBodySize)
        while true {
            guard url.scheme?.lowercased() == "https", let host = url.host(percentEncoded: false), !host.isEmpty,
                  url.user == nil, url.password == nil else {
                throw HTTPFetchError.invalidURL(url.absoluteString)
            }
            let port = url.port ?? 443
            let (resolved, security) = try await resolve(host)
            let addresses = request.publicAddressesOnly ? resolved.filter(\.isPublic) : resolved
            guard !addresses.isEmpty else { throw HTTPFetchError.nonPublicAddress(host: host) }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .milliseconds(1) else { throw HTTPFetchError.timedOut(after: timeout) }
            let pinned = addresses.map { $0.isIPv6 ? "[\($0)]" : "\($0)" }.joined(separator: ",")
            let spec = CurlTransferSpec(
                url: url.absoluteString, method: request.method,
                headers: headers.map { "\($0.name): \($0.value)" } + (request.method == .post ? ["Expect:"] : []),
                body: request.body, pinnedAddresses: "\(host):\(port):\(pinned)", allowedAddresses: addresses.map(\.bytes),
                caFile: configuration.caFile, userAgent: configuration.userAgent,
                connectTimeout: min(request.connectTimeout ?? configuration.connectTimeout, remaining),
                timeout: remaining, maxBodySize: maxBodySize
            )
            let outcome: CurlOutcome
            do {
                outcome = try await perform(spec)
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
            try check(outcome, host: host, spec: spec, timeout: timeout)
            if (300...399).contains(outcome.status), let location = outcome.redirectURL {
                guard redirectsLeft > 0, request.method == .get, let next = URL(string: location) else {
                    throw HTTPFetchError.redirectRefused(location: location)
                }
                // The caller's headers were meant for the first host only.
                if next.host(percentEncoded: false)?.lowercased() != host.lowercased() { headers = [] }
                redirectsLeft -= 1
                url = next
                continue
            }
            return HTTPResponse(
                status: outcome.status, headers: outcome.headers, body: outcome.body, url: url,
                address: IPAddress(outcome.primaryIP) ?? addresses[0], addressSecurity: security,
                httpVersion: Self.httpVersion(outcome.httpVersion)
            )
        }
    }

    /// CURLINFO_HTTP_VERSION's values: CURL_HTTP_VERSION_1_0 (1), 1_1 (2), 2_0 (3), 3 (30).
    static func httpVersion(_ value: Int) -> String {
        switch value {
        case 1: "1.0"
        case 3: "2"
        case 30: "3"
        default: "1.1"
        }
    }

    private func resolve(_ host: String) async throws -> ([IPAddress], DNSSecurity) {
        let unbracketed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let literal = IPAddress(unbracketed) { return ([literal], .insecure) }
        let name: DNSName
        do { name = try DNSName(host) } catch { throw HTTPFetchError.invalidURL(host) }
        let found: DNSAddresses
        do {
            found = try await resolver.addresses(of: name)
        } catch let error as DNSError {
            throw HTTPFetchError.dnsFailure(host: host, reason: "\(error)")
        }
        if let failure = found.failure { throw HTTPFetchError.dnsFailure(host: host, reason: failure) }
        return (found.all, found.security)
    }

    func perform(_ spec: CurlTransferSpec) async throws -> CurlOutcome {
        let transfer = Mutex<CurlTransfer?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<CurlOutcome, any Error>) in
                let submitted = multi.submit(spec) { outcome in
                    if let outcome {
                        continuation.resume(returning: outcome)
                    } else {
                        continuation.resume(throwing: HTTPFetchError.transferFailed("cancelled, or the fetcher was shut down"))
                    }
                }
                transfer.withLock { $0 = submitted }
                if Task.isCancelled { multi.cancel(submitted) }
            }
        } onCancel: {
            if let submitted = transfer.withLock({ $0 }) { multi.cancel(submitted) }
        }
    }

    /// Turns libcurl's result into the error an operator can act on.
    private func check(_ outcome: CurlOutcome, host: String, spec: CurlTransferSpec, timeout: Duration) throws {
        let tried = spec.pinnedAddresses.split(separator: ":", maxSplits: 2).last.map(String.init) ?? ""
        switch outcome.code {
        case CURLE_OK:
            return
        case CURLE_WRITE_ERROR where outcome.bodyTooLarge, CURLE_FILESIZE_EXCEEDED:
            throw HTTPFetchError.tooLarge(limit: spec.maxBodySize)
        case CURLE_OPERATION_TIMEDOUT:
            if outcome.primaryIP.isEmpty || outcome.message.contains("Failed to connect") || outcome.message.contains("Connection timed out") {
                throw HTTPFetchError.connectFailed(host: host, reason: "\(outcome.message) (addresses: \(tried))")
            }
            throw HTTPFetchError.timedOut(after: timeout)
        case CURLE_COULDNT_CONNECT:
            throw HTTPFetchError.connectFailed(host: host, reason: "\(outcome.message) (addresses: \(tried))")
        case CURLE_COULDNT_RESOLVE_HOST:
            throw HTTPFetchError.dnsFailure(host: host, reason: outcome.message)
        case CURLE_PEER_FAILED_VERIFICATION:
            throw HTTPFetchError.tlsFailure(host: host, problem: Self.problem(verifyResult: outcome.verifyResult, message: outcome.message))
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CACERT_BADFILE:
            throw HTTPFetchError.tlsFailure(host: host, problem: .handshakeFailed(outcome.message))
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            throw HTTPFetchError.invalidURL(spec.url)
        default:
            throw HTTPFetchError.transferFailed(outcome.message)
        }
    }

    /// OpenSSL's verification codes (X509_V_ERR_*) and curl's own host-name check, as `TLSProblem`.
    static func problem(verifyResult: Int, message: String) -> TLSProblem {
        switch verifyResult {
        case 10: return .expired
        case 9: return .notYetValid
        case 18, 19: return .selfSigned
        case 2, 20, 21: return .untrustedIssuer
        case 62: return .hostnameMismatch
        default:
            if message.contains("subject name") || message.contains("does not match target host") { return .hostnameMismatch }
            return .other(message)
        }
    }
}

/// An `http.*` configuration the fetcher cannot use; names the setting.
public struct HTTPFetchConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension HTTPFetchError {
    var metricLabel: String {
        switch self {
        case .invalidURL: "invalid_url"
        case .dnsFailure: "dns_failure"
        case .connectFailed: "connect_failure"
        case .tlsFailure: "tls_failure"
        case .tooLarge: "too_large"
        case .timedOut: "timed_out"
        case .redirectRefused: "redirect_refused"
        case .nonPublicAddress: "non_public_address"
        case .transferFailed: "transfer_failure"
        }
    }
}

/// Prometheus series for fetches: counts by result (status class or failure kind) and durations.
enum HTTPFetchMetrics {
    static func record(result: String, duration: Duration) {
        Counter(label: "palisade_http_fetches_total", dimensions: [("result", result)]).increment()
        Metrics.Timer(label: "palisade_http_fetch_duration_seconds").recordNanoseconds(
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore

/// Answers every request under `/.well-known/openpgpkey/` from a `WKDContent`; hands `/healthz` and
/// `/metrics` to the rest of the router, and answers any other path with the same 404.
///
/// A served key: 200 `application/octet-stream`, the binary certificate, a strong `ETag` (and 304 for a
/// matching `If-None-Match`), `Access-Control-Allow-Origin: *` (browser clients need it), HEAD like
/// GET without the body. A served domain's policy file: 200, empty (no WKS: no submission address).
/// Anything else, including an address that exists without a published key, is the same plain 404, so
/// nothing can be learnt or enumerated. Methods other than GET and HEAD are 405. Until the content is
/// loaded, WKD requests are 503 with `Retry-After`.
public struct WKDMiddleware<Context: RequestContext>: RouterMiddleware {
    let content: WKDContent

    public init(content: WKDContent, passingOn paths: Set<String> = ["/healthz", "/metrics"]) {
        self.content = content
        passedOn = paths
    }

    /// Paths left to the rest of the router.
    let passedOn: Set<String>

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix(WKDRequest.prefix) { return Self.respond(to: request, content: content) }
        if passedOn.contains(path) { return try await next(request, context) }
        return Self.notFound
    }

    static func respond(to request: Request, content: WKDContent) -> Response {
        guard request.method == .get || request.method == .head else {
            WKDMetrics.methodNotAllowed.increment()
            return Response(status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .accessControlAllowOrigin: "*"])
        }
        // Before the content is loaded every answer would be a 404 that caches and proxies keep: say "later".
        guard content.isLoaded else {
            return Response(status: .serviceUnavailable, headers: [.retryAfter: "5", .cacheControl: "no-store", .accessControlAllowOrigin: "*"])
        }
        guard let host = request.head.authority, let wanted = WKDRequest(host: host, path: request.uri.path),
              content.serves(wanted.domain) else {
            return notFound
        }
        switch wanted {
        case .policy:
            WKDMetrics.policy.increment()
            return Response(status: .ok, headers: [.contentType: "text/plain", .accessControlAllowOrigin: "*", .contentLength: "0",
                                                   .cacheControl: "public, max-age=3600"])
        case .key(let domain, let hash):
            guard let entry = content.entry(domain: domain, hash: hash) else { return notFound }
            if let validators = request.headers[.ifNoneMatch], matches(validators, entry.etag) {
                WKDMetrics.notModified.increment()
                var headers = entry.headers
                headers[.contentLength] = nil
                return Response(status: .notModified, headers: headers)
            }
            WKDMetrics.key.increment()
            return Response(status: .ok, headers: entry.headers, body: request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: entry.bodyBuffer))
        }
    }

    static var notFound: Response {
        WKDMetrics.notFound.increment()
        // Kept short: a key bound a minute ago should not stay hidden behind a cached 404.
        return Response(status: .notFound, headers: [.contentType: "text/plain", .accessControlAllowOrigin: "*", .cacheControl: "public, max-age=60"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "not found\n")))
    }

    /// `If-None-Match`: `*`, or a list of entity tags of which one is ours (weak comparison, RFC 9110 §13.1.2).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}

/// Requests the publisher answered, by what it answered.
enum WKDMetrics {
    static let key = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "key")])
    static let policy = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "policy")])
    static let notModified = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_modified")])
    static let notFound = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "not_found")])
    static let methodNotAllowed = Counter(label: "palisade_wkd_requests_total", dimensions: [("result", "method_not_allowed")])
}

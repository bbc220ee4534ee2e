import Foundation

/// What the publisher answers to one request, decided from the method, the Host header, the path and
/// `If-None-Match` alone (the transport writes it; see `WKDHTTPHandler`).
///
/// A served key: 200 with the binary certificate, a strong `ETag` (304 for a matching `If-None-Match`),
/// `Access-Control-Allow-Origin: *` (browser clients need it), HEAD like GET without the body. A served
/// domain's policy file: 200, empty (no WKS: no submission address). Anything else, including an address
/// that exists without a published key, is the same plain 404, so nothing can be learnt or enumerated.
/// Methods other than GET and HEAD are 405. Until the content is loaded, 503 with `Retry-After`.
enum WKDAnswer: Equatable {
    case key(WKDEntry)
    case notModified(WKDEntry)
    case policy
    case notFound
    case methodNotAllowed
    case unavailable

    static func decide(method: WKDRequestHead.Method, request: WKDRequest?, ifNoneMatch: () -> String?, content: WKDContent) -> WKDAnswer {
        guard method != .other else { return .methodNotAllowed }
        guard content.isLoaded else { return .unavailable }
        switch request {
        case nil:
            return .notFound
        case .policy(let domain):
            return content.lookup(domain: domain, hash: nil).served ? .policy : .notFound
        case .key(let domain, let hash):
            guard let entry = content.lookup(domain: domain, hash: hash).entry else { return .notFound }
            if let header = ifNoneMatch(), matches(header, entry.etag) { return .notModified(entry) }
            return .key(entry)
        }
    }

    /// `If-None-Match`: `*`, or a list of entity tags of which one is ours (weak comparison, RFC 9110 §13.1.2).
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}

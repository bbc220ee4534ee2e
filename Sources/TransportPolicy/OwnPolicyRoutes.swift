import Core
import HTTPService
import Hummingbird
import MailPolicy
import NIOCore

/// Our own MTA-STS policy (RFC 8461 §3.2), served at `/.well-known/mta-sts.txt` for `mta-sts.<domain>` of
/// each configured domain (`transport.ownPolicy.*`), as `text/plain`; any other host gets 404. Over the
/// plain HTTP listener (behind a TLS-terminating proxy) and, with `transport.https.certificates`, over
/// HTTPS directly (`TransportHTTPSServer`).
public enum OwnPolicyRoutes {
    public static func add(to router: Router<ServiceRequestContext>, policy: MTASTSPolicy, domains: [DomainName]) {
        let hosts = Set(domains.map { "mta-sts." + $0.ascii })
        let body = ByteBuffer(string: policy.servedText)
        router.get("/.well-known/mta-sts.txt") { request, _ -> Response in
            // The Host header without a port, lower case.
            let host = (request.head.authority ?? "").split(separator: ":").first.map { $0.lowercased() } ?? ""
            guard hosts.contains(host) else {
                return Response(status: .notFound, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "no MTA-STS policy for this host\n")))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain", .cacheControl: "max-age=300"], body: .init(byteBuffer: body))
        }
    }
}

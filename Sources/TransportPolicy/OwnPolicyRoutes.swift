import Core
import HTTPService
import Hummingbird
import HummingbirdTLS
import Logging
import MailPolicy
import Metrics
import NIOCore
import NIOSSL
import ServiceLifecycle
import TLSCertificates

/// Our own MTA-STS policy (RFC 8461 §3.2), served at `/.well-known/mta-sts.txt` for `mta-sts.<domain>` of
/// each configured domain (`transport.ownPolicy.*`), as `text/plain`; any other host gets 404. Over the
/// plain HTTP listener (behind a TLS-terminating proxy) and, with `transport.https.certificates`, over
/// HTTPS directly (`httpsServer`).
public enum OwnPolicyRoutes {
    public static func add(to router: Router<ServiceRequestContext>, policy: MTASTSPolicy, domains: [DomainName]) {
        let hosts = Set(domains.map { "mta-sts." + $0.ascii })
        let body = ByteBuffer(string: policy.lines.joined(separator: "\r\n") + "\r\n")
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

extension OwnPolicyRoutes {
    /// The HTTPS listener: the policy alone, each handshake with the certificate of `certificates` that
    /// names the host the client asked for (SNI); a handshake for any other name, or without SNI, fails.
    /// Certificates are read again by a `CertificateReloader`; a handshake always gets the current ones.
    public static func httpsServer(policy: MTASTSPolicy, domains: [DomainName], certificates: CertificateDirectory, host: String, port: Int,
                                   logger: Logger, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some Service {
        guard let start = certificates.anyIdentity else { throw NoCertificate(message: "\(certificates.directory) has no usable certificate") }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: start.certificates.map { .certificate($0) }, privateKey: .privateKey(start.privateKey))
        tls.minimumTLSVersion = .tlsv12
        tls.applicationProtocols = ["http/1.1"]
        tls.sslContextCallback = { hello, promise in
            if let identity = certificates.identity(serverName: hello.serverHostname) {
                promise.succeed(identity)
            } else {
                TransportHTTPSMetrics.unknownServerName.increment()
                promise.fail(NoCertificate(message: "no certificate for \(hello.serverHostname ?? "(no SNI)")"))
            }
        }
        let router = Router(context: ServiceRequestContext.self)
        add(to: router, policy: policy, domains: domains)
        return Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "palisade-transport"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)", "http.tls": "true"])
                await onListening(bound)
            },
            logger: logger)
    }

    struct NoCertificate: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

enum TransportHTTPSMetrics {
    static let unknownServerName = Counter(label: "palisade_transport_tls_unknown_server_name_total")
}

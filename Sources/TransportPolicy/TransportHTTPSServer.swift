import Core
import HTTPService
import Hummingbird
import HummingbirdTLS
import Logging
import Metrics
import NIOCore
import NIOSSL
import ServiceLifecycle
import TLSCertificates

/// The transport daemon's HTTPS listener (`transport.https.*`): our own MTA-STS policy and the TLS report
/// intake, each handshake with the certificate of `certificates` that names the host the client asked for
/// (SNI); a handshake for any other name, or without SNI, fails. Certificates are read again by a
/// `CertificateReloader`; a handshake always gets the current ones.
public enum TransportHTTPSServer {
    /// `routes` adds what it serves.
    public static func make(certificates: CertificateDirectory, host: String, port: Int, logger: Logger,
                            routes: (Router<ServiceRequestContext>) -> Void,
                            onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some Service {
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
        router.add(middleware: MetricsMiddleware())
        routes(router)
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

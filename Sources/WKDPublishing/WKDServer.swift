import Core
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ServiceLifecycle
import Synchronization
import TLSCertificates

/// One of the publisher's HTTP/1.1 listeners, on SwiftNIO directly (the requests themselves are read
/// and answered by `WKDHTTPHandler`). The plain-HTTP one also answers `/healthz` (the content loaded and
/// PostgreSQL answering at the last check, made every few seconds off the loop) and `/metrics`, and sits
/// behind a TLS-terminating proxy or serves loopback; the HTTPS one (`certificates` set) serves WKD alone,
/// with the certificate the client's SNI names (`CertificateDirectory`), and refuses a handshake without
/// SNI or for a name it has no certificate for.
public struct WKDServer: Service {
    let host: String
    let port: Int
    let content: WKDContent
    let certificates: CertificateDirectory?
    /// The health check behind `/healthz`; nil on the HTTPS listener, which answers neither it nor `/metrics`.
    let healthy: (@Sendable () async -> Bool)?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// Handshakes for a name no certificate covers (or without SNI), refused.
    static let unknownServerName = Counter(label: "palisade_wkd_tls_unknown_server_name_total")

    /// Connections silent this long are closed (nginx's `client_header_timeout` and `keepalive_timeout` are 60 s and 75 s).
    static let idleTimeout = TimeAmount.seconds(60)

    public init(host: String, port: Int, content: WKDContent, certificates: CertificateDirectory? = nil,
                healthy: (@Sendable () async -> Bool)?, logger: Logger,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.content = content
        self.certificates = certificates
        self.healthy = healthy
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let content = content
        let certificates = certificates
        let health: HealthState? = healthy == nil ? nil : HealthState()
        let logger = logger
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = WKDHTTPHandler(content: content, health: health)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try pipeline.addHandler(IdleConnectionCloser())
                    if let certificates {
                        try pipeline.addHandler(ByteToMessageHandler(SNIHandler { result in
                            let name: String? = if case .hostname(let name) = result { name } else { nil }
                            guard let context = certificates.context(serverName: name) else {
                                WKDServer.unknownServerName.increment()
                                logger.debug("tls handshake refused: no certificate", metadata: ["tls.server_name": "\(name ?? "(none)")"])
                                return channel.close()
                            }
                            return channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .before(handler))
                            }
                        }))
                    }
                    try pipeline.addHandler(handler)
                }
            }
            .bind(host: host, port: port).get()
        let bound = channel.localAddress?.port ?? port
        logger.info("listening", metadata: ["http.host": "\(host)", "http.port": "\(bound)", "http.tls": "\(certificates != nil)"])
        await withTaskGroup(of: Void.self) { group in
            if let health, let healthy {
                group.addTask {
                    // The health check off the event loops, so that /healthz answers from the last result.
                    while !Task.isCancelled {
                        health.set(await healthy())
                        try? await Task.sleep(for: .seconds(2))
                    }
                }
            }
            await onListening(bound)
            try? await gracefulShutdown()
            group.cancelAll()
        }
        try? await channel.close()
    }
}

/// Closes a connection when `IdleStateHandler` reports it silent.
final class IdleConnectionCloser: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }
}

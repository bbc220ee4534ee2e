import Core
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The socketmap listeners Postfix asks (`smtp_tls_policy_maps = socketmap:inet:HOST:PORT:NAME` or
/// `socketmap:unix:PATH:NAME`): TCP and/or a unix socket, each connection served by `SocketmapHandler`,
/// silent connections closed after `idleTimeout`, at most `maxConnections` open at once, on `threads`
/// event loops of its own.
public struct SocketmapServer: Service {
    public struct Listen: Sendable {
        public var host: String
        /// nil: no TCP listener.
        public var port: Int?
        /// nil: no unix socket.
        public var path: String?
        public var pathMode: UInt16

        public init(host: String = "127.0.0.1", port: Int? = 8461, path: String? = nil, pathMode: UInt16 = 0o660) {
            self.host = host
            self.port = port
            self.path = path
            self.pathMode = pathMode
        }
    }

    let listen: Listen
    let resolver: TransportPolicyResolver
    let idleTimeout: Duration
    /// Event-loop threads of the listeners (a cached answer costs a few microseconds of one of them).
    let threads: Int
    let connections: SocketmapConnections
    let logger: Logger
    let onListening: @Sendable (Int?) async -> Void

    public init(listen: Listen, resolver: TransportPolicyResolver, idleTimeout: Duration, maxConnections: Int, threads: Int = 1,
                logger: Logger, onListening: @escaping @Sendable (Int?) async -> Void = { _ in }) {
        self.listen = listen
        self.resolver = resolver
        self.idleTimeout = idleTimeout
        self.threads = threads
        connections = SocketmapConnections(limit: maxConnections)
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        do {
            try await serve(on: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }

    private func serve(on group: MultiThreadedEventLoopGroup) async throws {
        let resolver = resolver
        let connections = connections
        let idle = TimeAmount.nanoseconds(Int64(idleTimeout.inSeconds * 1_000_000_000))
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            // Postfix sends one request and waits for its answer: one read per wake-up, not a second that
            // finds nothing (level-triggered epoll wakes the loop again for anything left).
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.addHandler(SocketmapHandler(resolver: resolver, connections: connections))
                }
            }
        var channels: [any Channel] = []
        var boundPort: Int?
        if let port = listen.port {
            let channel = try await bootstrap
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: listen.host, port: port).get()
            boundPort = channel.localAddress?.port ?? port
            channels.append(channel)
            logger.info("socketmap listening", metadata: ["socketmap.host": "\(listen.host)", "socketmap.port": "\(boundPort!)"])
        }
        if let path = listen.path {
            let channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            guard chmod(path, mode_t(listen.pathMode)) == 0 else {
                try? await channel.close()
                throw SocketmapServerError("cannot set the permissions of \(path): \(String(cString: strerror(errno)))")
            }
            channels.append(channel)
            logger.info("socketmap listening", metadata: ["socketmap.path": "\(path)", "socketmap.mode": "\(String(listen.pathMode, radix: 8))"])
        }
        await onListening(boundPort)
        try? await gracefulShutdown()
        for channel in channels { try? await channel.close() }
        if let path = listen.path { unlink(path) }
    }
}

public struct SocketmapServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

enum SocketmapMetrics {
    static let connections = Gauge(label: "palisade_transport_socketmap_connections")
    static let refusedConnections = Counter(label: "palisade_transport_socketmap_refused_connections_total")
    static let badRequests = Counter(label: "palisade_transport_socketmap_bad_requests_total")
    static let idleClosed = Counter(label: "palisade_transport_socketmap_idle_closed_total")
}

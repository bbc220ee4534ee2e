import Core
import Foundation
import Logging
import MailPolicy
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The milter listeners Postfix connects to (`smtpd_milters = inet:HOST:PORT` or `unix:PATH`): each connection a
/// `MilterSession` fed packet by packet, its replies written in order; at end of message SPF, DKIM and
/// DMARC decide (`MailAuthenticator`). A connection whose bytes break the protocol is closed.
public struct MilterServer: Service {
    let host: String
    /// nil: no TCP listener.
    let port: Int?
    /// nil: no unix socket.
    let path: String?
    let pathMode: UInt16
    let authenticator: MailAuthenticator
    let maximumMessageSize: Int
    /// Where each message's outcome is counted (nil: nowhere).
    let aggregate: DMARCAggregateStore?
    let logger: Logger
    let onListening: @Sendable (Int?) async -> Void

    public init(host: String, port: Int?, path: String? = nil, pathMode: UInt16 = 0o660, authenticator: MailAuthenticator, maximumMessageSize: Int,
                aggregate: DMARCAggregateStore?, logger: Logger, onListening: @escaping @Sendable (Int?) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.path = path
        self.pathMode = pathMode
        self.authenticator = authenticator
        self.maximumMessageSize = maximumMessageSize
        self.aggregate = aggregate
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        typealias Listener = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).serverChannelOption(.backlog, value: 256)
        let wrap: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<ByteBuffer, ByteBuffer>> = { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
        var listeners: [Listener] = []
        var bound: Int?
        if let port {
            let listener = try await bootstrap.serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port, childChannelInitializer: wrap)
            bound = listener.channel.localAddress?.port ?? port
            listeners.append(listener)
            logger.info("milter listening", metadata: ["milter.host": "\(host)", "milter.port": "\(bound!)"])
        }
        if let path {
            let listener: Listener = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true, childChannelInitializer: wrap)
            guard chmod(path, mode_t(pathMode)) == 0 else {
                try? await listener.channel.close()
                throw MilterServerError("cannot set the permissions of \(path): \(String(cString: strerror(errno)))")
            }
            listeners.append(listener)
            logger.info("milter listening", metadata: ["milter.path": "\(path)", "milter.mode": "\(String(pathMode, radix: 8))"])
        }
        await onListening(bound)
        let opened = listeners
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for listener in opened {
                    group.addTask {
                        try await listener.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { served in
                                for try await connection in connections { served.addTask { await serve(connection) } }
                            }
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            for listener in opened { listener.channel.close(promise: nil) }
        }
        if let path { unlink(path) }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        MilterMetrics.opened()
        defer { MilterMetrics.closed() }
        let session = MilterSession(authenticator: authenticator, maximumMessageSize: maximumMessageSize)
        do {
            try await connection.executeThenClose { inbound, outbound in
                var buffer: [UInt8] = []
                reading: for try await chunk in inbound {
                    buffer += chunk.readableBytesView
                    var consumed = 0
                    while let (command, length) = try MilterProtocol.parse(buffer[consumed...]) {
                        consumed += length
                        if command == .quit { break reading }
                        let replies = await session.handle(command)
                        if !replies.isEmpty {
                            var out = ByteBuffer()
                            for reply in replies { out.writeBytes(MilterProtocol.encode(reply)) }
                            try await outbound.write(out)
                        }
                        // Counted once the MTA has its answer, so the database never delays mail.
                        if command == .endOfMessage, let outcome = session.takeOutcome() {
                            MilterMetrics.record(outcome)
                            // Off the connection's path: a slow database never holds up the next message.
                            if let aggregate { Task { [logger] in
                                do { try await aggregate.record(outcome) } catch {
                                    MilterMetrics.aggregateFailures.increment()
                                    logger.warning("DMARC aggregate data not recorded", metadata: ["error": "\(error)"])
                                }
                            } }
                        }
                    }
                    buffer.removeFirst(consumed)
                }
            }
        } catch {
            MilterMetrics.protocolErrors.increment()
            logger.info("milter connection closed on an error", metadata: ["error": "\(error)"])
        }
    }
}

public struct MilterServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

enum MilterMetrics {
    static let protocolErrors = Counter(label: "palisade_milter_protocol_errors_total")
    static let aggregateFailures = Counter(label: "palisade_milter_aggregate_failures_total")
    private static let gauge = Gauge(label: "palisade_milter_connections")
    private static let open = Mutex(0)

    static func opened() { gauge.record(open.withLock { $0 += 1; return $0 }) }
    static func closed() { gauge.record(open.withLock { $0 -= 1; return $0 }) }

    static func record(_ outcome: AuthenticationOutcome) {
        let action = switch outcome.action {
        case .accept: "accept"
        case .reject: "reject"
        case .quarantine: "quarantine"
        case .tempfail: "tempfail"
        }
        Counter(label: "palisade_milter_messages_total", dimensions: [("action", action), ("dmarc", outcome.dmarc?.result.rawValue ?? "permerror")]).increment()
    }
}

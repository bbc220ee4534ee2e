import Core
import Foundation
import Logging
import MailPolicy
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The milter listener Postfix connects to (`smtpd_milters = inet:HOST:PORT`): each connection a
/// `MilterSession` fed packet by packet, its replies written in order; at end of message SPF, DKIM and
/// DMARC decide (`MailAuthenticator`). A connection whose bytes break the protocol is closed.
public struct MilterServer: Service {
    let host: String
    let port: Int
    let authenticator: MailAuthenticator
    let maximumMessageSize: Int
    /// Where each message's outcome is counted (nil: nowhere).
    let aggregate: DMARCAggregateStore?
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    public init(host: String, port: Int, authenticator: MailAuthenticator, maximumMessageSize: Int, aggregate: DMARCAggregateStore?, logger: Logger,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.authenticator = authenticator
        self.maximumMessageSize = maximumMessageSize
        self.aggregate = aggregate
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let bound = server.channel.localAddress?.port ?? port
        logger.info("milter listening", metadata: ["milter.host": "\(host)", "milter.port": "\(bound)"])
        await onListening(bound)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
        }
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

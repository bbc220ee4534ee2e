import CLibPQ
import Foundation
import Logging

/// What a LISTEN connection reports.
public enum PostgresListenerEvent: Sendable, Equatable {
    /// A NOTIFY arrived on a channel we listen on.
    case notification(channel: String, payload: String)
    /// The connection was (re)established and LISTEN is in place. Notifications sent while it was down
    /// are lost, so consumers should look at the tables once instead of waiting for the next NOTIFY.
    case listening
}

/// A dedicated connection that LISTENs on fixed channels and turns NOTIFYs into an async stream.
///
/// It survives server restarts: when the connection breaks it reconnects with back-off, listens again and
/// reports `.listening`. Waiting for input happens with `poll(2)` on the connection's own thread, never on
/// Swift's cooperative pool.
public struct PostgresListener: Sendable {
    let configuration: PostgresConfiguration
    let channels: [String]
    let logger: Logger

    /// Channels are names chosen by code (`[a-z_]+`); anything else is refused at construction.
    public init(configuration: PostgresConfiguration, channels: [String], logger: Logger) {
        precondition(channels.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || $0 == 95 || ($0 >= 48 && $0 <= 57) } },
                     "LISTEN channel names must be lower-case identifiers")
        self.configuration = configuration
        self.channels = channels
        self.logger = logger
    }

    /// Events until the consuming task is cancelled or stops iterating.
    public func events() -> AsyncStream<PostgresListenerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: PostgresListenerEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let task = Task { await run(continuation) }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func run(_ continuation: AsyncStream<PostgresListenerEvent>.Continuation) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    conninfo: configuration.conninfo,
                    applicationName: configuration.applicationName + "-listen",
                    statementTimeout: configuration.statementTimeout
                )
                defer { connection.close() }
                for channel in channels {
                    try await connection.query(PostgresQuery(sql: "LISTEN \(channel)"))
                }
                backoff = .milliseconds(100)
                continuation.yield(.listening)
                while !Task.isCancelled {
                    for event in try await connection.onConnectionThread(Self.waitForNotifications) {
                        continuation.yield(event)
                    }
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("LISTEN connection lost, reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
        continuation.finish()
    }

    /// Waits up to 250 ms for the socket to become readable, then drains every queued notification.
    @Sendable
    private static func waitForNotifications(_ handle: OpaquePointer) throws -> [PostgresListenerEvent] {
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PostgresError(code: .connectionLost, message: "LISTEN connection has no socket") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, 250)
        if ready < 0 && errno != EINTR {
            throw PostgresError(code: .connectionLost, message: "poll failed: \(String(cString: strerror(errno)))")
        }
        if ready > 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw PostgresError(code: .connectionLost, message: PostgresConnection.trimmed(PQerrorMessage(handle)))
            }
        }
        var events: [PostgresListenerEvent] = []
        while let notify = PQnotifies(handle) {
            events.append(.notification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra)
            ))
            PQfreemem(notify)
        }
        if PQstatus(handle) != CONNECTION_OK {
            throw PostgresError(code: .connectionLost, message: "LISTEN connection closed by the server")
        }
        return events
    }
}

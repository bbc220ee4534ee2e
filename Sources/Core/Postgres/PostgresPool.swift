import Logging
import Synchronization

/// A bounded set of PostgreSQL connections shared by one process.
///
/// Callers borrow a connection for a closure and give it back when the closure ends. Broken connections
/// are dropped and replaced on demand; when the server restarts, `query` and `transaction` wait for it
/// (within `reconnectWindow`) and run again on a fresh connection, so a restart is survived without the
/// callers noticing. A statement or COMMIT interrupted by a lost connection may have taken effect, so
/// retried work must be idempotent (or guarded by a unique key): delivery is at least once. Use
/// `withConnection` for work that must not be repeated.
public final class PostgresPool: Sendable {
    public let configuration: PostgresConfiguration
    let logger: Logger
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var idle: [PostgresConnection] = []
        var open = 0
        var closed = false
        var nextWaiterID = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<PostgresConnection?, any Error>)] = []
    }

    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Lends one connection to `body`. No retry: see `query` and `transaction` for that.
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await body(connection)
            release(connection)
            return value
        } catch {
            release(connection)
            throw error
        }
    }

    /// Runs one statement in autocommit mode, retrying on a new connection if the old one was lost.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await retrying(transactional: false) { connection in
            try await connection.query(query)
        }
    }

    /// Runs `body` inside BEGIN … COMMIT. On a serialization failure or deadlock (40001, 40P01) or a lost
    /// connection, the transaction is rolled back and `body` runs again from the start.
    public func transaction<T>(
        isolation: PostgresIsolation = .readCommitted,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await retrying(transactional: true) { connection in
            try await connection.query(PostgresQuery(sql: "BEGIN ISOLATION LEVEL \(isolation.rawValue)"))
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT")
                return value
            } catch {
                if !connection.isBroken { _ = try? await connection.query("ROLLBACK") }
                throw error
            }
        }
    }

    /// Closes idle connections and refuses new work; borrowed connections close when given back.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            let idle = state.idle
            let waiters = state.waiters
            state.idle.removeAll()
            state.waiters.removeAll()
            state.open -= idle.count
            return (idle, waiters)
        }
        idle.forEach { $0.close() }
        waiters.forEach { $0.continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the connection pool is closed")) }
    }

    // MARK: - Retry policy

    private func retrying<T>(transactional: Bool, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let clock = ContinuousClock()
        let deadline = clock.now + configuration.reconnectWindow
        var backoff = Duration.milliseconds(50)
        var conflicts = 0
        while true {
            do {
                return try await withConnection(body)
            } catch let error as PostgresError where error.isConnectionProblem && clock.now < deadline {
                logger.warning("database connection problem, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            } catch let error as PostgresError where transactional && error.isTransactionRetryable && conflicts < 20 {
                conflicts += 1
                logger.debug("transaction conflict, running it again", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(conflicts)"])
                try await Task.sleep(for: .microseconds(Int.random(in: 0...(1000 << min(conflicts, 8)))))
            }
        }
    }

    // MARK: - Borrowing

    /// Borrows an idle connection, opens a new one if the pool has room, or waits for one to be given
    /// back; the choice and the registration as a waiter happen under one lock, so a connection released
    /// in between cannot be missed.
    private func acquire() async throws -> PostgresConnection {
        let timeout = configuration.acquireTimeout
        let handedOver: PostgresConnection? = try await withCheckedThrowingContinuation { continuation in
            let waiterID: Int? = state.withLock { state in
                if state.closed {
                    continuation.resume(throwing: PostgresError(code: .poolClosed, message: "the connection pool is closed"))
                } else if let connection = state.idle.popLast() {
                    continuation.resume(returning: connection)
                } else if state.open < configuration.maxConnections {
                    state.open += 1
                    continuation.resume(returning: nil)
                } else {
                    state.nextWaiterID += 1
                    state.waiters.append((state.nextWaiterID, continuation))
                    return state.nextWaiterID
                }
                return nil
            }
            if let waiterID {
                Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.expireWaiter(waiterID)
                }
            }
        }
        // nil means a slot is ours to open a new connection in.
        if let handedOver { return handedOver }
        return try await openCounted()
    }

    private func expireWaiter(_ id: Int) {
        let waiter = state.withLock { state in
            state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
        }
        waiter?.continuation.resume(throwing: PostgresError(
            code: .poolTimeout,
            message: "no database connection became free within \(configuration.acquireTimeout)"
        ))
    }

    /// Opens a connection in a slot already counted in `open`; gives the slot back if that fails.
    private func openCounted() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(
                conninfo: configuration.conninfo,
                applicationName: configuration.applicationName,
                statementTimeout: configuration.statementTimeout
            )
        } catch {
            freeSlot()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection) {
        if connection.isBroken {
            connection.close()
            // One lost connection usually means the server restarted: the idle ones are stale too.
            let stale = state.withLock { state in
                let stale = state.idle
                state.idle.removeAll()
                state.open -= stale.count
                return stale
            }
            stale.forEach { $0.close() }
            freeSlot()
            return
        }
        // One decision under the lock: hand over to a waiter, keep as idle, or close (pool closed).
        enum Disposition { case handOver(CheckedContinuation<PostgresConnection?, any Error>), keep, close }
        let disposition: Disposition = state.withLock { state in
            if state.closed {
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .handOver(state.waiters.removeFirst().continuation) }
            state.idle.append(connection)
            return .keep
        }
        switch disposition {
        case .handOver(let waiter): waiter.resume(returning: connection)
        case .keep: break
        case .close: connection.close()
        }
    }

    private func freeSlot() {
        let waiter: CheckedContinuation<PostgresConnection?, any Error>? = state.withLock { state in
            state.open -= 1
            guard !state.waiters.isEmpty, !state.closed else { return nil }
            state.open += 1
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: nil)
    }
}

/// Transaction isolation levels, as PostgreSQL names them.
public enum PostgresIsolation: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

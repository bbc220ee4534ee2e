import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One libpq connection and the thread that owns it.
///
/// libpq calls block, so none of them runs on Swift's cooperative pool: each connection has a serial
/// dispatch queue, every call into libpq happens on it, and callers await the result.
///
/// `@unchecked Sendable` is sound because the `PGconn` pointer is only read or written on `queue`; the
/// `broken` flag is atomic, and the other stored properties are immutable.
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private let brokenFlag = Atomic<Bool>(false)
    private var broken: Bool {
        get { brokenFlag.load(ordering: .relaxed) }
        set { brokenFlag.store(newValue, ordering: .relaxed) }
    }
    private let queue: DispatchQueue

    private init(handle: OpaquePointer, label: String) {
        self.handle = handle
        self.queue = DispatchQueue(label: "palisade.postgres.\(label)")
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    /// Opens a connection with libpq's conninfo or URI (the `PG*` environment variables fill what it
    /// leaves out) and prepares the session: UTC, ISO dates, and the statement timeout.
    public static func connect(
        conninfo: String,
        applicationName: String,
        statementTimeout: Duration
    ) async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { continuation in
            // A queue of its own (an overcommit queue, so a slow connect never starves the shared pool).
            DispatchQueue(label: "palisade.postgres.connect").async {
                continuation.resume(with: Result {
                    try connectBlocking(conninfo: conninfo, applicationName: applicationName)
                })
            }
        }.prepared(statementTimeout: statementTimeout)
    }

    private static func connectBlocking(conninfo: String, applicationName: String) throws -> PostgresConnection {
        // Keyword/value arrays let our own settings ride beside the caller's conninfo without string splicing;
        // expand_dbname makes libpq parse `dbname` as a full conninfo or URI.
        let keys = ["dbname", "application_name", "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"]
        let values = [conninfo, applicationName, "10", "1", "30", "10", "3"]
        let keyPointers = keys.map { strdup($0) } + [nil]
        let valuePointers = values.map { strdup($0) } + [nil]
        defer {
            keyPointers.forEach { free($0) }
            valuePointers.forEach { free($0) }
        }
        let handle: OpaquePointer? = keyPointers.withUnsafeBufferPointer { keyBuffer in
            valuePointers.withUnsafeBufferPointer { valueBuffer in
                keyBuffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: keys.count + 1) { k in
                    valueBuffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: values.count + 1) { v in
                        PQconnectdbParams(k, v, 1)
                    }
                }
            }
        }
        guard let handle else {
            throw PostgresError(code: .connectionFailed, message: "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw PostgresError(code: .connectionFailed, message: message)
        }
        return PostgresConnection(handle: handle, label: applicationName)
    }

    private func prepared(statementTimeout: Duration) async throws -> PostgresConnection {
        let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        _ = try await query("SELECT set_config('TimeZone', 'UTC', false), set_config('DateStyle', 'ISO, YMD', false), set_config('statement_timeout', \(String(milliseconds)), false)")
        return self
    }

    /// Whether the connection has failed and must be discarded. Set on the connection's queue whenever a
    /// call finds the connection gone, so reading it never waits for that queue.
    public var isBroken: Bool { broken }

    /// Runs one statement with its parameters bound separately (`PQexecParams`, text format).
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.execute(query) })
            }
        }
    }

    /// Runs several statements with no parameters in one round trip (`PQexec`), e.g. a migration file.
    public func execute(script: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async {
                continuation.resume(with: Result {
                    guard let handle = self.handle, !self.broken else { throw self.lostError() }
                    let result = PQexec(handle, script)
                    defer { PQclear(result) }
                    _ = try self.checked(result)
                })
            }
        }
    }

    /// Closes the connection now; later calls fail with `connectionLost`.
    public func close() {
        broken = true
        queue.async {
            if let handle = self.handle { PQfinish(handle) }
            self.handle = nil
        }
    }

    /// Runs a blocking body on this connection's own thread, for the notification listener.
    func onConnectionThread<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result {
                    guard let handle = self.handle, !self.broken else { throw self.lostError() }
                    do {
                        return try body(handle)
                    } catch let error as PostgresError where error.code == .connectionLost {
                        self.broken = true
                        throw error
                    }
                })
            }
        }
    }

    // MARK: - On the connection's queue

    private func execute(_ query: PostgresQuery) throws -> PostgresRows {
        guard let handle, !broken else { throw lostError() }
        let parameters = query.parameters
        // libpq takes C strings: a NUL would silently cut the value short, so such a statement is refused.
        if let index = parameters.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PostgresError(code: .invalidParameter, message: "parameter $\(index + 1) contains a NUL character, which PostgreSQL text cannot hold")
        }
        let cStrings: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: parameters.count) { values in
                    PQexecParams(handle, query.sql, Int32(parameters.count), nil, values, nil, nil, 0)
                }
            } ?? PQexecParams(handle, query.sql, 0, nil, nil, nil, nil, 0)
        }
        defer { PQclear(result) }
        return try checked(result)
    }

    private func checked(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let handle else { throw lostError() }
        guard let result else {
            broken = PQstatus(handle) != CONNECTION_OK
            throw broken ? lostError() : PostgresError(code: .server, message: Self.trimmed(PQerrorMessage(handle)))
        }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return Self.copyRows(result)
        default:
            let sqlState = Self.field(result, "C")
            let message = Self.field(result, "M") ?? Self.trimmed(PQresultErrorMessage(result))
            let detail = [Self.field(result, "D"), Self.field(result, "H")].compactMap { $0 }.joined(separator: " ")
            // Class 08 (connection exception) and 57P01-57P03 (server shutting down or starting) mean the
            // session is gone, as does a result with no SQLSTATE on a connection libpq now calls bad.
            let lost = PQstatus(handle) != CONNECTION_OK || sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P0") } ?? false
            if lost {
                broken = true
                throw PostgresError(code: .connectionLost, sqlState: sqlState, message: message)
            }
            throw PostgresError(code: .server, sqlState: sqlState, message: message, detail: detail.isEmpty ? nil : detail)
        }
    }

    private func lostError() -> PostgresError {
        let message = handle.map { Self.trimmed(PQerrorMessage($0)) } ?? "connection closed"
        return PostgresError(code: .connectionLost, message: message.isEmpty ? "connection lost" : message)
    }

    private static func copyRows(_ result: OpaquePointer) -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for column in 0..<columnCount {
            columns.append(String(cString: PQfname(result, Int32(column))))
        }
        var values: [String?] = []
        values.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
        }
        let tag = String(cString: PQcmdTuples(result))
        return PostgresRows(columns: columns, values: values, affectedRows: Int(tag) ?? rowCount)
    }

    private static func field(_ result: OpaquePointer, _ code: Character) -> String? {
        guard let ascii = code.asciiValue, let pointer = PQresultErrorField(result, Int32(ascii)) else { return nil }
        return String(cString: pointer)
    }

    static func trimmed(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

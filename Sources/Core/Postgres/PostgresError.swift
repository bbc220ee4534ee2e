/// Why a database operation failed, in a form callers can branch on.
///
/// `description` is safe to show to a client or write to a log: it never contains parameter values or
/// the connection string. The server's detail and hint stay in `detail` for operators.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// The server could not be reached or refused the connection (wrong address, auth, startup).
        public static let connectionFailed = Code(name: "connectionFailed")
        /// An established connection broke (server restart, network); the statement's outcome is unknown.
        public static let connectionLost = Code(name: "connectionLost")
        /// The server rejected the statement; `sqlState` says why.
        public static let server = Code(name: "server")
        /// No pooled connection became free within the acquire timeout.
        public static let poolTimeout = Code(name: "poolTimeout")
        /// The pool was shut down.
        public static let poolClosed = Code(name: "poolClosed")
        /// A column was missing or its text could not be decoded as the requested type.
        public static let decoding = Code(name: "decoding")
        /// A parameter PostgreSQL cannot receive (text containing NUL); the statement was not sent.
        public static let invalidParameter = Code(name: "invalidParameter")
    }

    public var code: Code
    /// The five-character SQLSTATE the server sent, when it sent one.
    public var sqlState: String?
    /// A short message safe to log (libpq's or the server's primary message).
    public var message: String
    /// The server's DETAIL and HINT fields, for operators only.
    public var detail: String?

    public init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
    }

    public var description: String {
        if let sqlState { return "PostgreSQL \(code) [\(sqlState)]: \(message)" }
        return "PostgreSQL \(code): \(message)"
    }

    /// A serialization failure or deadlock: the transaction is safe to run again from the start.
    public var isTransactionRetryable: Bool {
        sqlState == "40001" || sqlState == "40P01"
    }

    /// The connection is gone or could not be made: retrying on a new connection may succeed.
    public var isConnectionProblem: Bool {
        code == .connectionFailed || code == .connectionLost
    }

    /// A unique or exclusion constraint refused the row.
    public var isUniqueViolation: Bool { sqlState == "23505" }
}

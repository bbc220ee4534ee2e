/// How services reach PostgreSQL; read from the `database.*` configuration keys.
public struct PostgresConfiguration: Sendable {
    /// A libpq conninfo string or `postgresql://` URI. Empty means libpq's defaults and the `PG*`
    /// environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSFILE, …).
    public var conninfo: String
    /// Shown in `pg_stat_activity`, so operators can tell the services apart.
    public var applicationName: String
    /// The most connections this process opens at once.
    public var maxConnections: Int
    /// Every statement is cancelled by the server after this long.
    public var statementTimeout: Duration
    /// How long a caller waits for a free pooled connection before failing.
    public var acquireTimeout: Duration
    /// How long an operation keeps retrying while the server is unreachable (for example during a restart).
    public var reconnectWindow: Duration

    public init(
        conninfo: String = "",
        applicationName: String = "palisade",
        maxConnections: Int = 10,
        statementTimeout: Duration = .seconds(30),
        acquireTimeout: Duration = .seconds(10),
        reconnectWindow: Duration = .seconds(30)
    ) {
        self.conninfo = conninfo
        self.applicationName = applicationName
        self.maxConnections = maxConnections
        self.statementTimeout = statementTimeout
        self.acquireTimeout = acquireTimeout
        self.reconnectWindow = reconnectWindow
    }
}

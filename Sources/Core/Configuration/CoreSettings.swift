/// The settings Core itself reads; every service's schema includes them.
public enum CoreSettings {
    public static let databaseURL = ConfigSetting.string(
        "database.url", default: "", secret: true,
        "libpq conninfo string or postgresql:// URI. Empty: libpq defaults and the PG* environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSFILE)."
    )
    public static let databaseMaxConnections = ConfigSetting.int(
        "database.maxConnections", default: 10, "Most connections this process opens at once.", range: 1...500
    )
    public static let databaseStatementTimeout = ConfigSetting.duration(
        "database.statementTimeout", default: .seconds(30), "PostgreSQL cancels any statement running longer than this.",
        range: .milliseconds(100)...Duration.seconds(3600)
    )
    public static let databaseAcquireTimeout = ConfigSetting.duration(
        "database.acquireTimeout", default: .seconds(10), "How long a request waits for a free pooled connection.",
        range: .milliseconds(10)...Duration.seconds(600)
    )
    public static let databaseReconnectWindow = ConfigSetting.duration(
        "database.reconnectWindow", default: .seconds(30), "How long an operation keeps retrying while PostgreSQL is unreachable (e.g. restarting).",
        range: .zero...Duration.seconds(3600)
    )
    public static let migrationsDirectory = ConfigSetting.string(
        "database.migrationsDirectory", default: "",
        "Directory of NNNN_name.sql migrations. Empty: /usr/share/palisade/schemas, else ./Schemas."
    )
    public static let logLevel = ConfigSetting.string(
        "log.level", default: "info", "trace, debug, info, notice, warning, error or critical.",
        validate: { LogFormatting.level($0) == nil ? "unknown log level \"\($0)\"" : nil }
    )
    public static let logFormat = ConfigSetting.string(
        "log.format", default: "text", "text (one line per event, for journald) or json (one JSON object per line).",
        validate: { ["text", "json"].contains($0) ? nil : "log.format must be text or json, not \"\($0)\"" }
    )

    public static let all: [any AnyConfigSetting] = [
        databaseURL, databaseMaxConnections, databaseStatementTimeout, databaseAcquireTimeout, databaseReconnectWindow,
        migrationsDirectory, logLevel, logFormat,
    ] + JobSettings.all

    /// Sections of the shared file that belong to the services; each service checks its own.
    public static let serviceSections: Set<String> = ["keystore", "wkd", "vks", "aliases", "transport", "tlsrpt", "doctor"]

    /// Sections of the shared libraries that not every program reads (`DNSSettings`, `HTTPFetchSettings`, `KeyDiscoverySettings`).
    public static let librarySections: Set<String> = ["dns", "http", "discovery"]

    /// The schema of a program that reads only Core's settings.
    public static let schema = schema(adding: [])

    /// The schema of a program that reads Core's settings and `settings`: every other section of the
    /// shared file belongs to another program and is left alone.
    public static func schema(adding settings: [any AnyConfigSetting]) -> ConfigSchema {
        ConfigSchema(settings: all + settings, foreignSections: serviceSections.union(librarySections))
    }
}

extension PostgresConfiguration {
    /// The `database.*` settings, for a program named `applicationName` in `pg_stat_activity`.
    public init(_ config: PalisadeConfiguration, applicationName: String) {
        self.init(
            conninfo: CoreSettings.databaseURL.read(config),
            applicationName: applicationName,
            maxConnections: CoreSettings.databaseMaxConnections.read(config),
            statementTimeout: CoreSettings.databaseStatementTimeout.read(config),
            acquireTimeout: CoreSettings.databaseAcquireTimeout.read(config),
            reconnectWindow: CoreSettings.databaseReconnectWindow.read(config)
        )
    }
}

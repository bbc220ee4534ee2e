import ArgumentParser
import Core

/// The operator's command-line tool: migrations, the job table, configuration checks.
@main
struct Platformctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platformctl",
        abstract: "Operate a Palisade installation: database migrations, jobs, accounts, domains, aliases, keys, configuration.",
        discussion: """
            Settings come from the YAML file (--config, $PALISADE_CONFIG or \(PalisadeConfiguration.defaultFilePath)), \
            then PALISADE_* environment variables, then flags such as --database-url.
            Exit codes: 0 success, 1 unexpected failure, 3 configuration error, 4 database unreachable, \
            5 refused (not found, wrong state), 6 migrations out of step with Schemas/, 64 usage error.
            Shell completion: platformctl --generate-completion-script bash|zsh|fish.
            """,
        version: PalisadeVersion.current,
        subcommands: [Database.self, Jobs.self, Accounts.self, Domains.self, AliasCommands.self, KeyCommands.self, WKDCommands.self, VKSCommands.self, TransportCommands.self, TLSReportCommands.self, DoctorCommand.self, DNSCommands.self, Config.self, Version.self]
    )
}

/// Options every command that reads configuration accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The YAML configuration file.")
    var config: String?

    @Option(name: .customLong("database-url"), help: "libpq conninfo or postgresql:// URI (overrides database.url).")
    var databaseURL: String?

    @Option(name: .customLong("log-format"), help: "text or json (overrides log.format).")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "trace … critical (overrides log.level).")
    var logLevel: String?

    @Flag(name: .long, help: "Print JSON instead of tables.")
    var json = false

    /// The setting flags to hand to the configuration loader.
    var settingFlags: [String] {
        [("--database-url", databaseURL), ("--log-format", logFormat), ("--log-level", logLevel)]
            .flatMap { flag, value in value.map { [flag, $0] } ?? [] }
    }
}

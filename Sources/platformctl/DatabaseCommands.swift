import ArgumentParser
import Core

struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Apply and inspect the schema migrations.",
        subcommands: [Migrate.self, Status.self]
    )

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply every pending migration, each in its own transaction.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Directory of NNNN_name.sql files (default: database.migrationsDirectory, /usr/share/palisade/schemas or ./Schemas).")
        var schemas: String?

        func run() async throws {
            try await CommandContext.run(global) { context in
                let directory = context.schemasDirectory(schemas)
                let migrator = try Migrator(pool: context.pool, migrations: Migration.load(from: directory), logger: context.logger)
                do {
                    let applied = try await migrator.migrate()
                    if global.json {
                        try Output.json(["applied": applied])
                    } else {
                        print(applied.isEmpty ? "schema is up to date" : "applied \(applied.count) migration(s): \(applied.map(String.init).joined(separator: ", "))")
                    }
                } catch let error as MigrationError where error.code == .checksumMismatch || error.code == .missingFile {
                    throw Failure.migrationsOutOfStep(error.message)
                } catch let error as MigrationError where error.code == .notPermitted {
                    throw Failure.refused(error.message)
                }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show which migrations are applied, pending, changed or missing.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Directory of NNNN_name.sql files.")
        var schemas: String?

        func run() async throws {
            try await CommandContext.run(global) { context in
                let directory = context.schemasDirectory(schemas)
                let status = try await Migrator(pool: context.pool, migrations: Migration.load(from: directory), logger: context.logger).status()
                if global.json {
                    try Output.json(status)
                } else {
                    Output.table(["VERSION", "NAME", "STATE", "APPLIED"], status.map {
                        [String($0.version), $0.name, $0.state.rawValue, $0.appliedAt ?? "-"]
                    })
                }
                if status.contains(where: { $0.state == .changed || $0.state == .missingFile }) {
                    throw Failure.migrationsOutOfStep("applied migrations differ from the files in \(directory)")
                }
            }
        }
    }
}

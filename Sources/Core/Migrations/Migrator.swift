import Foundation
import Logging

/// Applies `Schemas/` to a database: forward only, each file in its own transaction, one runner at a time.
///
/// A session-level advisory lock serialises concurrent runs (two instances starting together both call
/// `migrate`: the second waits, then finds nothing left to do). Each applied file's SHA-256 is recorded;
/// if an applied file later changes or disappears, `migrate` stops before touching anything.
public struct Migrator: Sendable {
    public let pool: PostgresPool
    public let migrations: [Migration]
    let logger: Logger

    /// The advisory lock key: the first eight bytes of "palisade" as a big-endian integer.
    static let lockKey: Int64 = 0x7061_6C69_7361_6465

    public init(pool: PostgresPool, migrations: [Migration], logger: Logger) {
        self.pool = pool
        self.migrations = migrations
        self.logger = logger
    }

    /// The state of one migration as `db status` shows it.
    public struct Status: Sendable, Codable, Equatable {
        public enum State: String, Sendable, Codable { case applied, pending, changed, missingFile = "missing-file" }
        public let version: Int
        public let name: String
        public let state: State
        public let appliedAt: String?
    }

    /// Applies every pending migration; returns the versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await pool.withConnection { connection in
            // Waiting for another runner's lock, and long migrations, must not hit the statement timeout;
            // the connection's own timeout is put back before it returns to the pool.
            try await connection.query("SET statement_timeout = 0")
            let outcome: Result<[Int], any Error>
            do {
                try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))")
                outcome = .success(try await apply(on: connection))
            } catch {
                outcome = .failure(error)
            }
            // A connection that cannot drop the owner's role must not go back to the pool as the owner.
            do { try await connection.query("RESET ROLE") } catch { connection.close() }
            // The session lock goes with the connection if it broke; otherwise release it here.
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))")
            let milliseconds = Int64(JobQueue.seconds(pool.configuration.statementTimeout) * 1000)
            _ = try? await connection.query("SELECT set_config('statement_timeout', \(String(milliseconds)), false)")
            return try outcome.get()
        }
    }

    /// What is applied, pending, changed or missing, without changing anything.
    public func status() async throws -> [Status] {
        try await pool.withConnection { connection in
            let applied = try await appliedMigrations(on: connection)
            var result: [Status] = []
            let checksums = try await checksumsOfFiles(on: connection)
            for migration in migrations {
                if let row = applied[migration.version] {
                    result.append(Status(version: migration.version, name: migration.name,
                                         state: row.checksum == checksums[migration.version] ? .applied : .changed, appliedAt: row.appliedAt))
                } else {
                    result.append(Status(version: migration.version, name: migration.name, state: .pending, appliedAt: nil))
                }
            }
            for (version, row) in applied where !migrations.contains(where: { $0.version == version }) {
                result.append(Status(version: version, name: row.name, state: .missingFile, appliedAt: row.appliedAt))
            }
            return result.sorted { $0.version < $1.version }
        }
    }

    /// How a migration is applied once this database's objects belong to `palisade_owner` (0022_migrator_role.sql).
    enum Runner { case itself, itselfHandingOver, asOwner }

    /// Who applies the next migration, read from the catalogs (no privilege needed, nothing changed):
    /// before the handover of this database (its `schema_migrations` not yet `palisade_owner`'s), the
    /// connecting role itself, the database owner bootstrapping it; after it, a superuser or the database
    /// owner apply migrations as themselves and hand what they created to `palisade_owner` (so a migration
    /// may still create roles), a role that may become `palisade_owner` (palisade_admin) does so, and any
    /// other role (every service role) is refused.
    private func runner(on connection: PostgresConnection, right: String) async throws -> Runner {
        guard let row = try await connection.query(PostgresQuery(sql: """
            SELECT current_user AS me,
                   coalesce((SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('schema_migrations')) = 'palisade_owner', false) AS handed_over,
                   (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
                   (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) = current_user AS database_owner,
                   CASE WHEN to_regrole('palisade_owner') IS NULL THEN false ELSE pg_has_role(current_user, 'palisade_owner', '\(right)') END AS can_become
            """)).first else { return .itself }
        guard try row.decode("handed_over", as: Bool.self) else { return .itself }
        if try row.decode("superuser", as: Bool.self) || row.decode("database_owner", as: Bool.self) { return .itselfHandingOver }
        if try row.decode("can_become", as: Bool.self) { return .asOwner }
        let me = try row.decode("me", as: String.self)
        throw MigrationError(code: .notPermitted, message: "role \(me) may not migrate: migrations run as palisade_owner, which only palisade_admin (and the database owner) may become; run platformctl db migrate as palisade_admin")
    }

    private func apply(on connection: PostgresConnection) async throws -> [Int] {
        // PostgreSQL 16 separates the right to SET ROLE from membership.
        let version = try await connection.query("SELECT current_setting('server_version_num')::int AS version").first?.decode("version", as: Int.self) ?? 0
        let right = version >= 160_000 ? "SET" : "MEMBER"
        // A role that may not migrate is refused before it reads anything.
        _ = try await runner(on: connection, right: right)
        let present = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present").first?.decode("present", as: Bool.self)
        if present != true {
            try await connection.execute(script: """
                CREATE TABLE schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
        }
        let applied = try await appliedMigrations(on: connection)
        let checksums = try await checksumsOfFiles(on: connection)
        for (version, row) in applied.sorted(by: { $0.key < $1.key }) {
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw MigrationError(code: .missingFile, message: "migration \(String(format: "%04d", version))_\(row.name).sql was applied but its file is missing; refusing to continue")
            }
            guard checksums[version] == row.checksum else {
                throw MigrationError(code: .checksumMismatch, message: "migration \(String(format: "%04d", version))_\(migration.name).sql changed after it was applied (checksum \(row.checksum.prefix(12))… recorded, \(checksums[version]?.prefix(12) ?? "?")… now); applied migrations must never be edited: add a new one")
            }
        }
        var done: [Int] = []
        for migration in migrations where applied[migration.version] == nil {
            logger.info("applying migration", metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"])
            let runner = try await runner(on: connection, right: right)
            try await connection.query("BEGIN")
            do {
                if runner == .asOwner { try await connection.query("SET LOCAL ROLE palisade_owner") }
                try await connection.execute(script: migration.sql)
                if runner == .itselfHandingOver { try await connection.query("SELECT palisade_hand_over()") }
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex'))
                    """)
                try await connection.query("COMMIT")
            } catch {
                if !connection.isBroken { _ = try? await connection.query("ROLLBACK") }
                throw MigrationError(code: .failed, message: "migration \(String(format: "%04d", migration.version))_\(migration.name).sql failed and was rolled back: \(error)")
            }
            done.append(migration.version)
        }
        return done
    }

    private struct AppliedRow { let name: String; let checksum: String; let appliedAt: String }

    private func appliedMigrations(on connection: PostgresConnection) async throws -> [Int: AppliedRow] {
        let exists = try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
        guard try exists.first?.decode("present", as: Bool.self) == true else { return [:] }
        var rows: [Int: AppliedRow] = [:]
        for row in try await connection.query("SELECT version, name, checksum, to_char(applied_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS applied_at FROM schema_migrations") {
            rows[try row.decode("version")] = AppliedRow(name: try row.decode("name"), checksum: try row.decode("checksum"), appliedAt: try row.decode("applied_at"))
        }
        return rows
    }

    /// SHA-256 of each file, computed by the server so Core needs no hashing library of its own.
    private func checksumsOfFiles(on connection: PostgresConnection) async throws -> [Int: String] {
        var checksums: [Int: String] = [:]
        for migration in migrations {
            let rows = try await connection.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex') AS checksum")
            checksums[migration.version] = try rows.first?.decode("checksum")
        }
        return checksums
    }
}

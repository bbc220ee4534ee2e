import Core
import CoreTestSupport
import Foundation
import Testing

@Suite("Migrations")
struct MigratorTests {
    @Test("applying twice applies each file once, and db status says so")
    func idempotent() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let migrations = try Migration.load(from: TestDatabase.schemasDirectory)
        let migrator = Migrator(pool: db.pool, migrations: migrations, logger: db.logger)
        #expect(try await migrator.status().allSatisfy { $0.state == .pending })
        #expect(try await migrator.migrate() == migrations.map(\.version))
        #expect(try await migrator.migrate() == [])
        #expect(try await migrator.status().allSatisfy { $0.state == .applied })
    }

    @Test("two concurrent runs apply each file exactly once")
    func concurrentRuns() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let migrations = try Migration.load(from: TestDatabase.schemasDirectory)
        let other = db.anotherPool()
        defer { other.close() }
        async let first = Migrator(pool: db.pool, migrations: migrations, logger: db.logger).migrate()
        async let second = Migrator(pool: other, migrations: migrations, logger: db.logger).migrate()
        let applied = try await first + second
        #expect(applied.sorted() == migrations.map(\.version))
        #expect(try await db.count("SELECT count(*) FROM schema_migrations") == migrations.count)
    }

    @Test("a changed applied file stops the run, and so does a missing one")
    func changedOrMissingFileRefused() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-schemas-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "CREATE TABLE one (v int);".write(to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
        try await Migrator(pool: db.pool, migrations: Migration.load(from: directory.path), logger: db.logger).migrate()

        try "CREATE TABLE one (v bigint);".write(to: directory.appendingPathComponent("0001_one.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE two (v int);".write(to: directory.appendingPathComponent("0002_two.sql"), atomically: true, encoding: .utf8)
        let changed = await #expect(throws: MigrationError.self) {
            try await Migrator(pool: db.pool, migrations: Migration.load(from: directory.path), logger: db.logger).migrate()
        }
        #expect(changed?.code == .checksumMismatch)
        #expect(changed?.description.contains("0001_one.sql") == true)
        // Nothing after the refusal ran.
        #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'two'") == 0)

        try FileManager.default.removeItem(at: directory.appendingPathComponent("0001_one.sql"))
        let missing = await #expect(throws: MigrationError.self) {
            try await Migrator(pool: db.pool, migrations: Migration.load(from: directory.path), logger: db.logger).migrate()
        }
        #expect(missing?.code == .missingFile)
    }

    @Test("a failing migration is rolled back whole")
    func failingMigrationRolledBack() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let bad = Migration(version: 1, name: "bad", sql: "CREATE TABLE half (v int); SELECT no_such_function();")
        let error = await #expect(throws: MigrationError.self) {
            try await Migrator(pool: db.pool, migrations: [bad], logger: db.logger).migrate()
        }
        #expect(error?.code == .failed)
        #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'half'") == 0)
        #expect(try await db.count("SELECT count(*) FROM schema_migrations") == 0)
    }

    @Test("Only palisade_admin (and the database owner) can migrate; what it creates belongs to palisade_owner, whose rights admin holds only while migrating")
    func onlyAdminMigrates() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let migrations = try Migration.load(from: TestDatabase.schemasDirectory) + [Migration(version: 9999, name: "probe", sql: "CREATE TABLE migration_probe (id int)")]
        for role in ["palisade_keystore", "palisade_wkd", "palisade_vks", "palisade_aliases", "palisade_transport", "palisade_postfix"] {
            let pool = db.pool(as: role)
            defer { pool.close() }
            do {
                _ = try await Migrator(pool: pool, migrations: migrations, logger: db.logger).migrate()
                Issue.record("\(role) migrated")
            } catch let error as MigrationError {
                #expect(error.code == .notPermitted && error.message.contains("role \(role) may not migrate"), "\(error)")
            }
        }
        #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'migration_probe'") == 0)
        let admin = db.pool(as: "palisade_admin")
        defer { admin.close() }
        #expect(try await Migrator(pool: admin, migrations: migrations, logger: db.logger).migrate() == [9999])
        #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'migration_probe' AND tableowner = 'palisade_owner'") == 1)
        #expect(try await Migrator(pool: admin, migrations: migrations, logger: db.logger).status().allSatisfy { $0.state == .applied })
        // Outside a migration admin has only its own grants: the owner's rights are not inherited.
        let refused = await #expect(throws: PostgresError.self) { try await admin.query("SELECT * FROM secret_keys") }
        #expect(refused?.sqlState == "42501")
        // Every object of the schema belongs to palisade_owner.
        #expect(try await db.count("""
            SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') AND pg_get_userbyid(c.relowner) <> 'palisade_owner'
            """) == 0)
    }

    @Test("A superuser migrating a new database in one run (past the handover and beyond) leaves every object palisade_owner's, in every new database of the cluster")
    func superuserHandsOver() async throws {
        for _ in 0..<2 {
            let db = try await TestDatabase.create(migrated: false)
            defer { db.pool.close() }
            let migrations = try Migration.load(from: TestDatabase.schemasDirectory)
                + [Migration(version: 9999, name: "probe", sql: "CREATE TABLE migration_probe (id int GENERATED ALWAYS AS IDENTITY)")]
            #expect(try await Migrator(pool: db.pool, migrations: migrations, logger: db.logger).migrate() == migrations.map(\.version))
            #expect(try await db.count("""
                SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S') AND pg_get_userbyid(c.relowner) <> 'palisade_owner'
                """) == 0)
            #expect(try await db.count("SELECT count(*) FROM pg_tables WHERE tablename = 'migration_probe' AND tableowner = 'palisade_owner'") == 1)
        }
    }

    @Test("each service role has only its grants, and the audit log is append-only")
    func rolesAndGrants() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        func can(_ role: String, _ privilege: String, _ table: String) async throws -> Bool {
            try await db.pool.query("SELECT has_table_privilege(\(role), \(table), \(privilege)) AS ok").first!.decode("ok")
        }
        #expect(try await can("palisade_keystore", "INSERT", "keys"))
        #expect(try await !can("palisade_keystore", "UPDATE", "addresses"))
        #expect(try await !can("palisade_wkd", "UPDATE", "keys"))
        #expect(try await can("palisade_aliases", "DELETE", "addresses"))
        #expect(try await !can("palisade_transport", "SELECT", "keys"))
        #expect(try await !can("palisade_admin", "DELETE", "audit_log"))
        try await db.pool.query("INSERT INTO audit_log (actor, action) VALUES ('test', 'check')")
        let refused = await #expect(throws: PostgresError.self) { try await db.pool.query("DELETE FROM audit_log") }
        #expect(refused?.sqlState == "42501")
    }
}

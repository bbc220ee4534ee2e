import Core
import CoreTestSupport
import Foundation
import Logging
import Testing

/// The database's own guard on aliases (Schemas/0004_alias_protection.sql): whatever role runs the
/// statement, a platform alias is not deleted, renamed or moved after the cutoff, a primary address is
/// never deleted, and an address once assigned never passes to another account.
@Suite("Alias protection in the database")
struct AliasProtectionTests {
    static let roles = ["palisade_keystore", "palisade_wkd", "palisade_vks", "palisade_aliases", "palisade_transport", "palisade_postfix", "palisade_admin"]

    static func database(cutoff: String? = nil) async throws -> TestDatabase {
        if let cutoff { return try await TestDatabase.create(aliasDeletionCutoff: cutoff) }
        return try await TestDatabase.create()
    }

    struct Fixture {
        let account: Int64
        let other: Int64
    }

    /// An account with a primary address and aliases on a platform and a custom domain, and a second account.
    static func populate(_ db: TestDatabase) async throws -> Fixture {
        let account: Int64 = try await db.pool.query("INSERT INTO accounts DEFAULT VALUES RETURNING id").first!.decode("id")
        let other: Int64 = try await db.pool.query("INSERT INTO accounts DEFAULT VALUES RETURNING id").first!.decode("id")
        let platform: Int64 = try await db.pool.query("INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform') RETURNING id").first!.decode("id")
        let custom: Int64 = try await db.pool.query("INSERT INTO domains (name, kind, account_id) VALUES ('custom.example', 'custom', \(account)) RETURNING id").first!.decode("id")
        try await db.pool.query("""
            INSERT INTO addresses (address, local_part, domain_id, account_id, kind) VALUES
                ('me@mail.example', 'me', \(platform), \(account), 'primary'),
                ('alias@mail.example', 'alias', \(platform), \(account), 'alias'),
                ('shop@custom.example', 'shop', \(custom), \(account), 'alias')
            """)
        return Fixture(account: account, other: other)
    }

    static func pool(_ db: TestDatabase, as role: String) -> PostgresPool {
        db.pool(as: role)
    }

    static func exists(_ db: TestDatabase, _ address: String) async throws -> Bool {
        try await !db.pool.query("SELECT 1 FROM addresses WHERE address = \(address)").isEmpty
    }

    @Test("After the cutoff no role can delete, rename or move a platform alias; disabling is allowed")
    func platformAliasAfterCutoff() async throws {
        let db = try await Self.database()
        defer { db.pool.close() }
        let fixture = try await Self.populate(db)
        for role in Self.roles {
            let pool = Self.pool(db, as: role)
            defer { pool.close() }
            await #expect(throws: PostgresError.self, "\(role) deleted a platform alias") {
                try await pool.query("DELETE FROM addresses WHERE address = 'alias@mail.example'")
            }
            await #expect(throws: PostgresError.self, "\(role) renamed a platform alias") {
                try await pool.query("UPDATE addresses SET address = 'other@mail.example', local_part = 'other' WHERE address = 'alias@mail.example'")
            }
            await #expect(throws: PostgresError.self, "\(role) moved a platform alias") {
                try await pool.query("UPDATE addresses SET account_id = \(fixture.other) WHERE address = 'alias@mail.example'")
            }
        }
        // Even the owner (a superuser here) meets the trigger, with the rule named.
        do {
            try await db.pool.query("DELETE FROM addresses WHERE address = 'alias@mail.example'")
            Issue.record("the owner deleted a platform alias")
        } catch let error as PostgresError {
            #expect(error.sqlState == "PA001")
            #expect(error.message.contains("alias_deletion_forbidden"))
            #expect(error.message.contains("2022-01-01"))
        }
        await #expect(throws: PostgresError.self) { try await db.pool.query("TRUNCATE addresses CASCADE") }
        #expect(try await Self.exists(db, "alias@mail.example"))
        let aliases = Self.pool(db, as: "palisade_aliases")
        defer { aliases.close() }
        try await aliases.query("UPDATE addresses SET enabled = false, disabled_at = now() WHERE address = 'alias@mail.example'")
        try await aliases.query("UPDATE addresses SET enabled = true, disabled_at = NULL WHERE address = 'alias@mail.example'")
    }

    @Test("Custom-domain aliases can be deleted; primary addresses never")
    func customAndPrimary() async throws {
        let db = try await Self.database()
        defer { db.pool.close() }
        _ = try await Self.populate(db)
        let aliases = Self.pool(db, as: "palisade_aliases")
        defer { aliases.close() }
        try await aliases.query("DELETE FROM addresses WHERE address = 'shop@custom.example'")
        #expect(try await !Self.exists(db, "shop@custom.example"))
        await #expect(throws: PostgresError.self) { try await aliases.query("DELETE FROM addresses WHERE address = 'me@mail.example'") }
        #expect(try await Self.exists(db, "me@mail.example"))
    }

    @Test("An address once assigned is never given to another account, even after it was deleted")
    func reservedForever() async throws {
        let db = try await Self.database()
        defer { db.pool.close() }
        let fixture = try await Self.populate(db)
        try await db.pool.query("DELETE FROM addresses WHERE address = 'shop@custom.example'")
        let custom: Int64 = try await db.pool.query("SELECT id FROM domains WHERE name = 'custom.example'").first!.decode("id")
        do {
            try await db.pool.query("""
                INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
                VALUES ('shop@custom.example', 'shop', \(custom), \(fixture.other), 'alias')
                """)
            Issue.record("a deleted address went to another account")
        } catch let error as PostgresError {
            #expect(error.sqlState == "PA002")
        }
        // Its own account may take it back.
        try await db.pool.query("""
            INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
            VALUES ('shop@custom.example', 'shop', \(custom), \(fixture.account), 'alias')
            """)
        await #expect(throws: PostgresError.self) { try await db.pool.query("DELETE FROM reserved_addresses") }
    }

    @Test("Before the cutoff a platform alias could still be deleted")
    func beforeCutoff() async throws {
        let db = try await Self.database(cutoff: "2099-01-01T00:00:00Z")
        defer { db.pool.close() }
        _ = try await Self.populate(db)
        let aliases = Self.pool(db, as: "palisade_aliases")
        defer { aliases.close() }
        try await aliases.query("DELETE FROM addresses WHERE address = 'alias@mail.example'")
        #expect(try await !Self.exists(db, "alias@mail.example"))
    }

    @Test("A platform domain keeps its name, kind and owner and is never removed, so its aliases cannot be freed that way")
    func domainsProtected() async throws {
        let db = try await Self.database()
        defer { db.pool.close() }
        let fixture = try await Self.populate(db)
        for role in Self.roles {
            let pool = Self.pool(db, as: role)
            defer { pool.close() }
            await #expect(throws: PostgresError.self, "\(role) made a platform domain custom") {
                try await pool.query("UPDATE domains SET kind = 'custom', account_id = \(fixture.account) WHERE name = 'mail.example'")
            }
        }
        for statement in [
            "UPDATE domains SET kind = 'custom', account_id = \(fixture.account) WHERE name = 'mail.example'",
            "UPDATE domains SET name = 'renamed.example' WHERE name = 'mail.example'",
            "UPDATE domains SET account_id = \(fixture.other) WHERE name = 'custom.example'",
            "DELETE FROM domains WHERE name = 'mail.example'",
            "TRUNCATE domains CASCADE",
        ] {
            do {
                try await db.pool.query(PostgresQuery(sql: statement))
                Issue.record("the owner ran: \(statement)")
            } catch let error as PostgresError {
                #expect(error.sqlState == "PA001", "\(statement): \(error)")
            }
        }
        #expect(try await db.count("SELECT count(*) FROM domains WHERE name = 'mail.example' AND kind = 'platform'") == 1)
    }

    @Test("The cutoff may move earlier, never later, and cannot be removed")
    func cutoffOnlyEarlier() async throws {
        let db = try await Self.database()
        defer { db.pool.close() }
        await #expect(throws: PostgresError.self) {
            try await db.pool.query("UPDATE settings SET value = '2030-01-01T00:00:00Z' WHERE key = 'aliases.deletion_cutoff'")
        }
        await #expect(throws: PostgresError.self) { try await db.pool.query("DELETE FROM settings WHERE key = 'aliases.deletion_cutoff'") }
        try await db.pool.query("UPDATE settings SET value = '2021-06-01T00:00:00Z' WHERE key = 'aliases.deletion_cutoff'")
        #expect(try await db.pool.query("SELECT alias_deletion_cutoff() = '2021-06-01T00:00:00Z'::timestamptz AS moved").first!.decode("moved", as: Bool.self))
    }
}

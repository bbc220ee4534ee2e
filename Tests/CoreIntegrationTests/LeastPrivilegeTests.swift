import Core
import CoreTestSupport
import Testing

/// The boundaries between the services' PostgreSQL roles, proven by running the statements a compromised
/// service would: each is refused with SQLSTATE 42501 (insufficient privilege) and changes nothing.
@Suite("Least privilege: what each service's role is refused")
struct LeastPrivilegeTests {
    static let fingerprint = String(repeating: "AB", count: 20)

    /// A platform domain with an account, its primary address, a key bound to it.
    static func populate(_ db: TestDatabase) async throws -> (account: Int64, address: Int64) {
        let account: Int64 = try await db.pool.query("INSERT INTO accounts DEFAULT VALUES RETURNING id").first!.decode("id")
        let domain: Int64 = try await db.pool.query("INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform') RETURNING id").first!.decode("id")
        let address: Int64 = try await db.pool.query("""
            INSERT INTO addresses (address, local_part, domain_id, account_id, kind)
            VALUES ('me@mail.example', 'me', \(domain), \(account), 'primary') RETURNING id
            """).first!.decode("id")
        try await db.pool.query("INSERT INTO keys (fingerprint, version, certificate) VALUES (\(fingerprint), 4, '\\x99'::bytea)")
        try await db.pool.query("INSERT INTO account_keys (account_id, fingerprint, source) VALUES (\(account), \(fingerprint), 'upload')")
        try await db.pool.query("INSERT INTO key_addresses (fingerprint, address_id, user_id) VALUES (\(fingerprint), \(address), 'Me <me@mail.example>')")
        return (account, address)
    }

    /// `statement` as `role` is refused for lack of privilege.
    static func refused(_ db: TestDatabase, _ role: String, _ statement: PostgresQuery, _ comment: Comment) async {
        let pool = db.pool(as: role)
        defer { pool.close() }
        let error = await #expect(throws: PostgresError.self, comment) { try await pool.query(statement) }
        #expect(error?.sqlState == "42501", "\(comment): \(error.map { "\($0.sqlState ?? "-") \($0.message)" } ?? "allowed")")
    }

    @Test("The WKD publisher reads keys and addresses but cannot write them")
    func wkdPublisher() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let (account, address) = try await Self.populate(db)
        let wkd = db.pool(as: "palisade_wkd")
        defer { wkd.close() }
        #expect(try await !wkd.query("SELECT fingerprint FROM keys").isEmpty, "it reads the keys it publishes")
        let other = String(repeating: "CD", count: 20)
        await Self.refused(db, "palisade_wkd", "INSERT INTO keys (fingerprint, version, certificate) VALUES (\(other), 4, '\\x99'::bytea)", "insert a key")
        await Self.refused(db, "palisade_wkd", "INSERT INTO account_keys (account_id, fingerprint, source) VALUES (\(account), \(Self.fingerprint), 'wkd')", "give an account a key")
        await Self.refused(db, "palisade_wkd", "UPDATE keys SET certificate = '\\x98'::bytea", "replace a key")
        await Self.refused(db, "palisade_wkd", "DELETE FROM keys", "delete keys")
        await Self.refused(db, "palisade_wkd", "INSERT INTO key_addresses (fingerprint, address_id, user_id) VALUES (\(Self.fingerprint), \(address), 'x')", "bind a key")
        await Self.refused(db, "palisade_wkd", "DELETE FROM key_addresses", "unbind keys")
        await Self.refused(db, "palisade_wkd", "UPDATE addresses SET account_id = \(account)", "move addresses")
        await Self.refused(db, "palisade_wkd", "INSERT INTO addresses (address, local_part, domain_id, account_id, kind) SELECT 'x@mail.example', 'x', domain_id, account_id, 'alias' FROM addresses", "add an address")
        await Self.refused(db, "palisade_wkd", "DELETE FROM addresses", "delete addresses")
        #expect(try await db.count("SELECT count(*) FROM keys") == 1)
        #expect(try await db.count("SELECT count(*) FROM key_addresses") == 1)
        #expect(try await db.count("SELECT count(*) FROM addresses") == 1)
    }

    @Test("The transport daemon cannot read keys, their bindings or secret keys")
    func transportDaemon() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        _ = try await Self.populate(db)
        for table in ["keys", "key_addresses", "account_keys", "secret_keys"] {
            await Self.refused(db, "palisade_transport", PostgresQuery(sql: "SELECT * FROM \(table)"), "read \(table)")
        }
    }

    @Test("No service role may read the secret keys but the keystore's")
    func secretKeys() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        for role in ["palisade_wkd", "palisade_vks", "palisade_aliases", "palisade_transport", "palisade_postfix"] {
            await Self.refused(db, role, "SELECT * FROM secret_keys", "\(role) reads secret keys")
        }
    }
}

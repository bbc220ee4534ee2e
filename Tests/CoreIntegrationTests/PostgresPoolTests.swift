import Core
import CoreTestSupport
import Foundation
import Logging
import Testing

@Suite("PostgreSQL layer against a real server")
struct PostgresPoolTests {
    @Test("parameters are bound, never spliced: a hostile string is stored as it is")
    func parametersAreBound() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        try await db.pool.query("CREATE TABLE t (v text)")
        let hostile = "x'); DROP TABLE t; --"
        try await db.pool.query("INSERT INTO t VALUES (\(hostile))")
        let rows = try await db.pool.query("SELECT v FROM t")
        #expect(try rows.first?.decode("v", as: String.self) == hostile)
    }

    @Test("typed decoding of the common column types, and NULL")
    func typedDecoding() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let id = UUID()
        let when = Date(timeIntervalSince1970: 1_764_387_483.123456)
        let bytes: [UInt8] = [0, 1, 0xFE, 0xFF]
        let row = try #require(try await db.pool.query("""
            SELECT \(42)::int AS i, \(Int64.max)::bigint AS b, \(true)::bool AS t, \(2.5)::float8 AS d, \(id)::uuid AS u,
                   \(when)::timestamptz AS ts, \(bytes)::bytea AS bytes, NULL::text AS missing, 'ünïcødé'::text AS s
            """).first)
        #expect(try row.decode("i", as: Int.self) == 42)
        #expect(try row.decode("b", as: Int64.self) == .max)
        #expect(try row.decode("t", as: Bool.self))
        #expect(try row.decode("d", as: Double.self) == 2.5)
        #expect(try row.decode("u", as: UUID.self) == id)
        #expect(abs(try row.decode("ts", as: Date.self).timeIntervalSince(when)) < 0.000_001)
        #expect(try row.decode("bytes", as: [UInt8].self) == bytes)
        #expect(try row.decodeIfPresent("missing", as: String.self) == nil)
        #expect(try row.decode("s", as: String.self) == "ünïcødé")
        #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
        #expect(throws: PostgresError.self) { try row.decode("s", as: Int.self) }
    }

    @Test("a server error carries its SQLSTATE and the transaction is rolled back")
    func transactionRollsBack() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        try await db.pool.query("CREATE TABLE t (v int PRIMARY KEY)")
        let error = await #expect(throws: PostgresError.self) {
            try await db.pool.transaction { connection in
                try await connection.query("INSERT INTO t VALUES (1)")
                try await connection.query("INSERT INTO t VALUES (1)")
            }
        }
        #expect(error?.isUniqueViolation == true)
        #expect(try await db.count("SELECT count(*) FROM t") == 0)
    }

    @Test("serialization failures are retried until the transaction commits")
    func serializationFailureRetried() async throws {
        let db = try await TestDatabase.create(migrated: false, maxConnections: 8)
        defer { db.pool.close() }
        try await db.pool.query("CREATE TABLE counter (n int NOT NULL)")
        try await db.pool.query("INSERT INTO counter VALUES (0)")
        // Eight serializable read-modify-write transactions on one row conflict with each other;
        // every one must still land exactly once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await db.pool.transaction(isolation: .serializable) { connection in
                        let n: Int = try await connection.query("SELECT n FROM counter").first!.decode("n")
                        try await connection.query("UPDATE counter SET n = \(n + 1)")
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await db.pool.query("SELECT n FROM counter").first!.decode("n", as: Int.self) == 8)
    }

    @Test("statement_timeout cancels a statement that runs too long")
    func statementTimeout() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: db.url, statementTimeout: .milliseconds(200)), logger: db.logger)
        defer { pool.close() }
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT pg_sleep(30)") }
        #expect(error?.sqlState == "57014")
    }

    @Test("a full pool makes callers wait, then fail with poolTimeout")
    func poolTimeout() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: db.url, maxConnections: 1, acquireTimeout: .milliseconds(200)), logger: db.logger)
        defer { pool.close() }
        try await pool.withConnection { _ in
            let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
            #expect(error?.code == .poolTimeout)
        }
        // The connection came back: the pool works again.
        #expect(try await pool.query("SELECT 1 AS one").first?.decode("one", as: Int.self) == 1)
    }

    @Test("LISTEN/NOTIFY delivers notifications committed by another connection")
    func listenNotify() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let listener = PostgresListener(configuration: PostgresConfiguration(conninfo: db.url), channels: ["palisade_test"], logger: db.logger)
        var events = listener.events().makeAsyncIterator()
        #expect(await events.next() == .listening)
        try await db.pool.query("SELECT pg_notify('palisade_test', \("hello"))")
        #expect(await events.next() == .notification(channel: "palisade_test", payload: "hello"))
    }

    @Test("a bad connection string fails with connectionFailed, not a hang")
    func badConnection() async throws {
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: "postgresql://nobody@127.0.0.1:1/none", reconnectWindow: .zero), logger: .init(label: "test"))
        defer { pool.close() }
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.code == .connectionFailed)
        #expect(error?.description.contains("127.0.0.1") == true)
    }
}

import Aliases
import Core
import CoreTestSupport
import Foundation
import Logging
import Synchronization

/// A clock the tests move to either side of the deletion cutoff.
final class TestClock: Sendable {
    private let current: Mutex<Date>
    init(_ iso: String) { current = Mutex(Self.date(iso)) }
    var now: Date { current.withLock { $0 } }
    func set(_ iso: String) { current.withLock { $0 = Self.date(iso) } }
    static func date(_ iso: String) -> Date { try! Date(iso, strategy: .iso8601) }
}

/// A database with a platform domain, a second platform domain, and two accounts; and a directory
/// acting as the service role `palisade_aliases`, as the deployed service does.
struct AliasWorld {
    let db: TestDatabase
    let servicePool: PostgresPool
    let directory: AliasDirectory
    let clock: TestClock
    let alice: Int64
    let bob: Int64
    static let api = AliasDirectory.Actor(name: "api:test")
    static let operatorActor = AliasDirectory.Actor(name: "platformctl:test", allowReserved: true)

    static func make(cutoff: String? = nil, clock: String = "2026-06-01T00:00:00Z", rules: AddressRules = AddressRules(maxAliasesPerAccount: 5)) async throws -> AliasWorld {
        let db = if let cutoff { try await TestDatabase.create(aliasDeletionCutoff: cutoff) } else { try await TestDatabase.create() }
        let servicePool = db.pool(as: "palisade_aliases", maxConnections: 8)
        let testClock = TestClock(clock)
        let directory = AliasDirectory(pool: servicePool, rules: rules, logger: db.logger, now: { testClock.now })
        let admin = AliasDirectory(pool: db.pool(as: "palisade_admin"), rules: rules, logger: db.logger)
        _ = try await admin.addPlatformDomain("mail.example", by: operatorActor)
        _ = try await admin.addPlatformDomain("other.example", by: operatorActor)
        let alice = try await directory.createAccount(primary: "alice@mail.example", by: api).id
        let bob = try await directory.createAccount(primary: "bob@mail.example", by: api).id
        admin.pool.close()
        return AliasWorld(db: db, servicePool: servicePool, directory: directory, clock: testClock, alice: alice, bob: bob)
    }

    func close() {
        servicePool.close()
        db.pool.close()
    }

    func exists(_ address: String) async throws -> Bool {
        try await !db.pool.query("SELECT 1 FROM addresses WHERE address = \(address)").isEmpty
    }

    /// Everything a refused request must leave untouched, as one comparable value.
    func snapshot() async throws -> [String] {
        let rows = try await db.pool.query("""
            SELECT (SELECT string_agg(address || ':' || account_id || ':' || enabled, ',' ORDER BY address) FROM addresses) AS addresses,
                   (SELECT string_agg(name, ',' ORDER BY name) FROM domains) AS domains,
                   (SELECT string_agg(id || ':' || state, ',' ORDER BY id) FROM accounts) AS accounts,
                   (SELECT count(*) FROM jobs)::text AS jobs
            """)
        let row = rows.first!
        return try ["addresses", "domains", "accounts", "jobs"].map { try row.decodeIfPresent($0, as: String.self) ?? "" }
    }

    /// The audit rows for `subject`, as "action outcome code".
    func audit(_ subject: String) async throws -> [String] {
        try await db.pool.query("""
            SELECT action || ' ' || (details->>'outcome') || coalesce(' ' || (details->>'code'), '') AS line
            FROM audit_log WHERE subject = \(subject) ORDER BY id
            """).map { try $0.decode("line") }
    }

    func refreshJobs(_ address: String) async throws -> Int {
        try await db.pool.query("""
            SELECT count(*) AS count FROM jobs WHERE kind = 'wkd.refresh' AND queue = 'wkd' AND payload->>'address' = \(address)
            """).first!.decode("count")
    }
}

/// Runs `body`, which must throw an `AliasError`; returns its code (nil if it did not throw one).
func refusal(_ body: () async throws -> Void) async -> AliasError.Code? {
    do {
        try await body()
        return nil
    } catch let error as AliasError {
        return error.code
    } catch {
        return nil
    }
}

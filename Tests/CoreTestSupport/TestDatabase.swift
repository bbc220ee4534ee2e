import Core
import Foundation
import Logging
import ServiceLifecycle

/// A fresh, migrated database in the test cluster that `make test` started, one per test.
///
/// `PALISADE_TEST_DATABASE_URL` names the cluster's superuser connection (a `postgresql://…/postgres` URL);
/// without it the integration tests fail with a message saying to run `make test`.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String
    public let pool: PostgresPool
    public let logger: Logger

    public static var adminURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["PALISADE_TEST_DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError("PALISADE_TEST_DATABASE_URL is not set: run the integration tests with `make test`, which starts a PostgreSQL cluster")
            }
            return url
        }
    }

    public static var repositoryRoot: URL {
        // Tests/CoreTestSupport/TestDatabase.swift → the repository.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static var schemasDirectory: String { repositoryRoot.appendingPathComponent("Schemas").path }

    /// Creates `palisade_test_<random>`, applies the migrations unless `migrated` is false, and opens a pool.
    public static func create(migrated: Bool = true, maxConnections: Int = 10, label: String = "test") async throws -> TestDatabase {
        let admin = try adminURL
        let name = "palisade_test_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        let logger = Logger(label: "palisade.\(label)")
        let adminPool = PostgresPool(configuration: PostgresConfiguration(conninfo: admin, maxConnections: 1), logger: logger)
        defer { adminPool.close() }
        try await adminPool.query(PostgresQuery(sql: "CREATE DATABASE \(name)"))
        let url = replacingDatabase(in: admin, with: name)
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: url, applicationName: label, maxConnections: maxConnections, reconnectWindow: .seconds(60)), logger: logger)
        if migrated {
            try await Migrator(pool: pool, migrations: Migration.load(from: schemasDirectory), logger: logger).migrate()
        }
        return TestDatabase(name: name, url: url, pool: pool, logger: logger)
    }

    /// A database whose alias deletion cutoff is `cutoff` (ISO 8601), set before migration 0004 installs
    /// the rules: the only way to have a cutoff in the future, since once set it may only move earlier.
    public static func create(aliasDeletionCutoff cutoff: String) async throws -> TestDatabase {
        let db = try await create(migrated: false)
        let all = try Migration.load(from: schemasDirectory)
        _ = try await Migrator(pool: db.pool, migrations: all.filter { $0.version <= 3 }, logger: db.logger).migrate()
        try await db.pool.query("INSERT INTO settings (key, value) VALUES ('aliases.deletion_cutoff', \(cutoff))")
        _ = try await Migrator(pool: db.pool, migrations: all, logger: db.logger).migrate()
        return db
    }

    /// A pool connected as `role` (one of the service roles) to this database; the test cluster trusts
    /// local connections.
    public func pool(as role: String, maxConnections: Int = 1) -> PostgresPool {
        let roleURL = url.replacingOccurrences(of: "://palisade@", with: "://\(role)@")
        return PostgresPool(configuration: PostgresConfiguration(conninfo: roleURL, maxConnections: maxConnections, reconnectWindow: .zero), logger: logger)
    }

    public static func replacingDatabase(in url: String, with name: String) -> String {
        guard let slash = url.range(of: "/", options: .backwards) else { return url }
        let rest = url[slash.upperBound...]
        let query = rest.firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return url[..<slash.upperBound] + name + query
    }

    /// A second pool on the same database, as another process would have.
    public func anotherPool(maxConnections: Int = 4, label: String = "test") -> PostgresPool {
        PostgresPool(configuration: PostgresConfiguration(conninfo: url, applicationName: label, maxConnections: maxConnections, reconnectWindow: .seconds(60)), logger: logger)
    }

    /// Waits for a condition the database will reach, checking it again whenever it is false; throws
    /// `message` if it is still false after `limit` (a generous bound, not a timing assertion).
    public func eventually(_ message: String, limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("timed out waiting for: \(message)")
    }

    /// Runs `services` in a ServiceGroup until `condition` holds, then shuts them down gracefully and
    /// waits for them to stop.
    public func run(_ services: [any Service], until message: String, _ condition: @escaping () async throws -> Bool) async throws {
        let group = ServiceGroup(services: services, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await eventually(message, condition)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// The built platformctl against this database as an operator does it (`palisade_admin`, login
    /// `operator-test`, so its audit rows read `platformctl:operator-test`).
    public func platformctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await ChildProcess.runBuilt("platformctl", arguments, environment: [
            "PALISADE_DATABASE_URL": url.replacingOccurrences(of: "://palisade@", with: "://palisade_admin@"), "USER": "operator-test",
        ])
    }

    public func count(_ sql: String) async throws -> Int {
        try await pool.query(PostgresQuery(sql: sql)).first!.decode("count")
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

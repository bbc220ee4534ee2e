import Core
import CoreTestSupport
import Foundation
import Testing

/// platformctl as operators run it: the built binary, a real database, exit codes and JSON.
@Suite("platformctl")
struct PlatformctlTests {
    static let binary = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/platformctl").path

    func platformctl(_ arguments: [String], databaseURL: String?) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALISADE_") }
        if let databaseURL { environment["PALISADE_DATABASE_URL"] = databaseURL }
        return try await ChildProcess.runReportingStatus(Self.binary, arguments, environment: environment)
    }

    @Test("db migrate, db status --json, and jobs commands with their exit codes")
    func commands() async throws {
        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let schemas = TestDatabase.schemasDirectory
        let migrate = try await platformctl(["db", "migrate", "--schemas", schemas, "--json"], databaseURL: db.url)
        #expect(migrate.status == 0)
        #expect(migrate.output.contains("\"applied\""))

        let status = try await platformctl(["db", "status", "--schemas", schemas, "--json"], databaseURL: db.url)
        #expect(status.status == 0)
        let rows = try JSONDecoder().decode([Migrator.Status].self, from: Data(status.output.utf8))
        #expect(rows.count == (try Migration.load(from: schemas)).count && rows.allSatisfy { $0.state == .applied })

        guard case .enqueued(let id) = try await JobQueue(pool: db.pool).enqueue(NewJob(kind: "wkd.refresh", queue: "wkd")) else { return }
        #expect(try await platformctl(["jobs", "cancel", String(id)], databaseURL: db.url).status == 0)
        #expect(try await platformctl(["jobs", "cancel", String(id)], databaseURL: db.url).status == 5)
        #expect(try await platformctl(["jobs", "retry", String(id)], databaseURL: db.url).status == 0)
        #expect(try await platformctl(["jobs", "show", "987654"], databaseURL: db.url).status == 5)
        let stats = try await platformctl(["jobs", "stats", "--json"], databaseURL: db.url)
        #expect(try JSONDecoder().decode([QueueStatistics].self, from: Data(stats.output.utf8)).first?.ready == 1)
    }

    @Test("the example configuration in Deploy/ passes config check, library sections included")
    func exampleIsValid() async throws {
        let example = TestDatabase.repositoryRoot.appendingPathComponent("Deploy/palisade.example.yaml").path
        let check = try await platformctl(["config", "check", "--config", example], databaseURL: nil)
        #expect(check.status == 0)
        #expect(check.output.contains("configuration is valid"))
        for key in ["database.maxConnections", "jobs.lease", "dns.trustAnchorFiles", "dns.timeout", "http.maxBodySize"] {
            #expect(check.output.contains(key), "config check does not list \(key)")
        }
    }

    @Test("a bad configuration exits 3, an unreachable database 4, a changed migration 6")
    func failureExitCodes() async throws {
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-bad-\(UUID().uuidString.prefix(8)).yaml").path
        try "database:\n  maxConection: 3\n".write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(try await platformctl(["config", "check", "--config", bad], databaseURL: nil).status == 3)
        #expect(try await platformctl(["db", "status", "--schemas", TestDatabase.schemasDirectory],
                                      databaseURL: "postgresql://nobody@127.0.0.1:1/none").status == 4)

        let db = try await TestDatabase.create(migrated: false)
        defer { db.pool.close() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-cli-schemas-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "CREATE TABLE one (v int);".write(toFile: directory + "/0001_one.sql", atomically: true, encoding: .utf8)
        #expect(try await platformctl(["db", "migrate", "--schemas", directory], databaseURL: db.url).status == 0)
        try "CREATE TABLE one (v text);".write(toFile: directory + "/0001_one.sql", atomically: true, encoding: .utf8)
        #expect(try await platformctl(["db", "migrate", "--schemas", directory], databaseURL: db.url).status == 6)
    }
}

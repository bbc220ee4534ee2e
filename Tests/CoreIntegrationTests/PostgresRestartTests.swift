import Core
import CoreTestSupport
import Foundation
import Logging
import Testing

/// Runs against a cluster of its own, because restarting the shared test cluster would disturb every
/// other test running at the same time.
@Suite("PostgreSQL restarts")
struct PostgresRestartTests {
    @Test("the pool and the listener survive pg_ctl restart")
    func poolSurvivesRestart() async throws {
        _ = try TestDatabase.adminURL
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-restart-\(UUID().uuidString.prefix(8))").path
        let script = TestDatabase.repositoryRoot.appendingPathComponent("Deploy/local/pg.sh").path
        let port = Int.random(in: 56_000...56_900)
        let url = try await ChildProcess.run("/bin/bash", [script, "start", directory, String(port)]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            let destroy = Process()
            destroy.executableURL = URL(fileURLWithPath: "/bin/bash")
            destroy.arguments = [script, "destroy", directory]
            try? destroy.run()
        }

        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: url, maxConnections: 4, reconnectWindow: .seconds(60)), logger: .init(label: "restart"))
        defer { pool.close() }
        try await pool.query("CREATE TABLE t (v int)")
        try await pool.query("INSERT INTO t VALUES (1)")
        let pidBefore: Int = try await pool.query("SELECT pg_backend_pid() AS pid").first!.decode("pid")

        let listener = PostgresListener(configuration: PostgresConfiguration(conninfo: url), channels: ["restart_test"], logger: .init(label: "restart"))
        var events = listener.events().makeAsyncIterator()
        #expect(await events.next() == .listening)

        try await ChildProcess.run("/bin/bash", [script, "restart", directory])

        // The pooled connection died with the old server; the next query reconnects transparently.
        let rows = try await pool.query("SELECT count(*) AS count, pg_backend_pid() AS pid FROM t")
        #expect(try rows.first?.decode("count", as: Int.self) == 1)
        #expect(try rows.first?.decode("pid", as: Int.self) != pidBefore)
        // The listener reconnects and says so, then delivers again.
        #expect(await events.next() == .listening)
        try await pool.query("SELECT pg_notify('restart_test', 'after')")
        #expect(await events.next() == .notification(channel: "restart_test", payload: "after"))
    }
}

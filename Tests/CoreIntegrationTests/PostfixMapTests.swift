import Core
import CoreTestSupport
import Foundation
import Testing

/// Postfix resolves aliases and sender logins straight from PostgreSQL with the lookup tables in
/// Deploy/postfix/, queried here with the real `postmap -q` (Debian's postfix and postfix-pgsql).
@Suite("Postfix lookup tables")
struct PostfixMapTests {
    /// Deploy/postfix/NAME with its connection pointed at the test database.
    static func table(_ name: String, for db: TestDatabase) throws -> String {
        let template = try String(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Deploy/postfix/\(name)"), encoding: .utf8)
        let components = URLComponents(string: db.url)!
        let text = template.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("hosts = ") { return "hosts = inet:\(components.host!):\(components.port!)" }
            if line.hasPrefix("dbname = ") { return "dbname = \(db.name)" }
            return String(line)
        }.joined(separator: "\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-\(UUID().uuidString.prefix(8))-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `postmap -q KEY pgsql:TABLE`: the value, or nil when Postfix finds nothing (exit status 1).
    static func lookup(_ key: String, in table: String) async throws -> String? {
        let (status, output) = try await ChildProcess.runReportingStatus("/usr/sbin/postmap", ["-q", key, "pgsql:\(table)"])
        if status == 1 { return nil }
        guard status == 0 else { throw TestSetupError("postmap -q \(key) exited with \(status)") }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("Aliases map to the primary address; disabled addresses and closed accounts map to nothing")
    func maps() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let account: Int64 = try await db.pool.query("INSERT INTO accounts DEFAULT VALUES RETURNING id").first!.decode("id")
        let closed: Int64 = try await db.pool.query("INSERT INTO accounts (state, closed_at) VALUES ('closed', now()) RETURNING id").first!.decode("id")
        let domain: Int64 = try await db.pool.query("INSERT INTO domains (name, kind) VALUES ('mail.example', 'platform') RETURNING id").first!.decode("id")
        try await db.pool.query("""
            INSERT INTO addresses (address, local_part, domain_id, account_id, kind, enabled, disabled_at) VALUES
                ('me@mail.example', 'me', \(domain), \(account), 'primary', true, NULL),
                ('alias@mail.example', 'alias', \(domain), \(account), 'alias', true, NULL),
                ('quiet@mail.example', 'quiet', \(domain), \(account), 'alias', false, now()),
                ('gone@mail.example', 'gone', \(domain), \(closed), 'primary', true, NULL)
            """)
        let aliases = try Self.table("pgsql-virtual-alias-maps.cf", for: db)
        let logins = try Self.table("pgsql-sender-login-maps.cf", for: db)
        defer { [aliases, logins].forEach { try? FileManager.default.removeItem(atPath: $0) } }

        #expect(try await Self.lookup("alias@mail.example", in: aliases) == "me@mail.example")
        #expect(try await Self.lookup("ALIAS@Mail.Example", in: aliases) == "me@mail.example")
        #expect(try await Self.lookup("me@mail.example", in: aliases) == "me@mail.example")
        #expect(try await Self.lookup("quiet@mail.example", in: aliases) == nil)
        #expect(try await Self.lookup("gone@mail.example", in: aliases) == nil)
        #expect(try await Self.lookup("nobody@mail.example", in: aliases) == nil)
        #expect(try await Self.lookup("alias@mail.example", in: logins) == "me@mail.example")
        #expect(try await Self.lookup("quiet@mail.example", in: logins) == nil)
    }

    @Test("Postfix's role reads the two views and nothing else")
    func leastPrivilege() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let url = db.url.replacingOccurrences(of: "://palisade@", with: "://palisade_postfix@")
        let postfix = PostgresPool(configuration: PostgresConfiguration(conninfo: url, maxConnections: 1, reconnectWindow: .zero), logger: db.logger)
        defer { postfix.close() }
        _ = try await postfix.query("SELECT * FROM postfix_virtual_aliases")
        await #expect(throws: PostgresError.self) { try await postfix.query("SELECT * FROM addresses") }
        await #expect(throws: PostgresError.self) { try await postfix.query("SELECT * FROM keys") }
    }
}

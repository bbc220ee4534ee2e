import Aliases
import Core
import CoreTestSupport
import Foundation
import Testing

/// `platformctl accounts|domains|aliases` as an operator runs them: the built binary, connected as
/// `palisade_admin`, with the same rules, exit codes and audit rows as the API.
@Suite("platformctl accounts, domains and aliases")
struct PlatformctlAliasTests {
    func platformctl(_ arguments: [String], _ db: TestDatabase) async throws -> (status: Int32, output: String) {
        try await db.platformctl(arguments)
    }

    @Test("Operators create, disable and delete under the rules; a refused deletion exits 5 naming the rule")
    func commands() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        #expect(try await platformctl(["domains", "add", "mail.example", "--platform"], db).status == 0)
        let account = try await platformctl(["accounts", "create", "alice@mail.example", "--json"], db)
        #expect(account.status == 0)
        let id = try JSONDecoder().decode(AccountID.self, from: Data(account.output.utf8.drop { $0 != UInt8(ascii: "{") })).id
        #expect(try await platformctl(["aliases", "create", "--account", "\(id)", "shop@mail.example"], db).status == 0)

        let refused = try await platformctl(["aliases", "delete", "--account", "\(id)", "shop@mail.example"], db)
        #expect(refused.status == 5)
        #expect(refused.output.contains("alias_deletion_forbidden"))
        #expect(refused.output.contains("cannot be deleted since 2022-01-01T00:00:00Z"))
        #expect(try await db.count("SELECT count(*) FROM addresses WHERE address = 'shop@mail.example'") == 1)

        let reserved = try await platformctl(["aliases", "create", "--account", "\(id)", "postmaster@mail.example"], db)
        #expect(reserved.status == 5 && reserved.output.contains("reserved_address"))
        #expect(try await platformctl(["aliases", "create", "--account", "\(id)", "postmaster@mail.example", "--allow-reserved"], db).status == 0)

        #expect(try await platformctl(["aliases", "disable", "--account", "\(id)", "shop@mail.example"], db).status == 0)
        let listed = try await platformctl(["aliases", "list", "--account", "\(id)"], db)
        #expect(listed.output.contains("shop@mail.example") && listed.output.contains("disabled"))

        #expect(try await platformctl(["domains", "add", "alice.example", "--account", "\(id)"], db).status == 0)
        #expect(try await platformctl(["aliases", "create", "--account", "\(id)", "me@alice.example"], db).status == 0)
        #expect(try await platformctl(["aliases", "delete", "--account", "\(id)", "me@alice.example"], db).status == 0)
        #expect(try await platformctl(["aliases", "delete", "--account", "\(id)", "me@alice.example"], db).status == 5)
        #expect(try await platformctl(["domains", "add", "x.example", "--platform", "--account", "\(id)"], db).status == 64)
        #expect(try await platformctl(["accounts", "close", "\(id)"], db).status == 0)
        #expect(try await platformctl(["accounts", "close", "\(id)"], db).status == 5)

        let audit = try await db.pool.query("""
            SELECT action || ' ' || (details->>'outcome') AS line FROM audit_log
            WHERE actor = 'platformctl:operator-test' AND subject = 'shop@mail.example' ORDER BY id
            """).map { try $0.decode("line", as: String.self) }
        #expect(audit == ["alias.create ok", "alias.delete refused", "alias.disable ok"])
    }

    struct AccountID: Decodable { let id: Int64 }
}

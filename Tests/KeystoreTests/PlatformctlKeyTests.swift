import CoreTestSupport
import Foundation
import Testing

/// `platformctl keys …` as an operator runs it: the built binary, as `palisade_admin`.
@Suite("platformctl keys")
struct PlatformctlKeyTests {
    func platformctl(_ arguments: [String], _ world: KeystoreWorld) async throws -> (status: Int32, output: String) {
        try await world.db.platformctl(arguments)
    }

    @Test("import, list, bind, show, unbind and delete; a refusal exits 5 with its code")
    func commands() async throws {
        let world = try await KeystoreWorld.make()
        defer { world.close() }
        let fixtures = TestDatabase.repositoryRoot.appendingPathComponent("Tests/OpenPGPTests/Fixtures").path
        let account = String(world.mia)
        let fingerprint = KeystoreWorld.miaFingerprint
        let imported = try await platformctl(["keys", "import", "--account", account, "\(fixtures)/merge-2.pgp"], world)
        #expect(imported.status == 0 && imported.output.contains(fingerprint) && imported.output.contains("new"))
        let listed = try await platformctl(["keys", "list", "--account", account, "--json"], world)
        #expect(listed.status == 0 && listed.output.contains("\"fingerprint\" : \"\(fingerprint)\""))
        #expect(try await platformctl(["keys", "bind", "--account", account, "mia@example.org", fingerprint], world).status == 0)
        let shown = try await platformctl(["keys", "show", "--account", account, fingerprint], world)
        #expect(shown.output.contains("bound        mia@example.org"))
        let refused = try await platformctl(["keys", "import", "--account", account, "\(fixtures)/validation-time"], world)
        #expect(refused.status == 5 && refused.output.contains("invalid_key"))
        #expect(try await platformctl(["keys", "unbind", "--account", account, "mia@example.org"], world).status == 0)
        #expect(try await platformctl(["keys", "delete", "--account", account, fingerprint], world).status == 0)
        #expect(try await platformctl(["keys", "delete", "--account", account, fingerprint], world).status == 5)
        #expect(try await world.count("SELECT count(*) FROM audit_log WHERE actor = 'platformctl:operator-test' AND action LIKE 'key.%'") == 6)
    }
}

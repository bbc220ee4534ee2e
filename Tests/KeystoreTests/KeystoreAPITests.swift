import Core
import CoreTestSupport
import Foundation
import HTTPService
import Keystore
import KeystoreAPI
import Testing

/// The `palisade-keystore` HTTP API over real HTTP on loopback.
@Suite("Keystore HTTP API")
struct KeystoreAPITests {
    typealias World = KeystoreWorld
    static let token = "fedcba9876543210fedcba9876543210-webmail"

    func serving(_ world: World, _ body: (HTTPTestClient) async throws -> Void) async throws {
        try await HTTPTestClient.serving(token: Self.token, logger: world.db.logger, { onListening in
            KeystoreApplication.make(keystore: world.keystore, tokens: BearerTokens(["webmail:\(Self.token)"]), host: "127.0.0.1", port: 0,
                                     logger: world.db.logger, onListening: onListening)
        }, body)
    }

    @Test("Import (armored and binary), list, show, bind, unbind and delete through the API")
    func lifecycle() async throws {
        let world = try await World.make()
        defer { world.close() }
        let fingerprint = World.miaFingerprint
        try await serving(world) { api in
            #expect(try await api.request("GET", "/v1/accounts/\(world.mia)/keys", token: .some(nil)).status == 401)
            let imported = try await api.request("POST", "/v1/accounts/\(world.mia)/keys", body: Data(try World.fixture("merge-1.pgp")), contentType: "application/pgp-keys")
            #expect(imported.status == 200)
            #expect((imported.json["imported"] as? [[String: Any]])?.first?["outcome"] as? String == "new")
            let armoredKey = try Data(contentsOf: TestDatabase.repositoryRoot.appendingPathComponent("Tests/OpenPGPTests/Fixtures/ed25519-signing-subkey.asc"))
            #expect(try await api.request("POST", "/v1/accounts/\(world.mia)/keys", body: armoredKey, contentType: "application/pgp-keys").status == 200)
            let merged = try await api.request("POST", "/v1/accounts/\(world.mia)/keys", body: Data(try World.fixture("merge-2.pgp")), contentType: "application/pgp-keys")
            #expect((merged.json["imported"] as? [[String: Any]])?.first?["outcome"] as? String == "merged")

            let listed = try await api.request("GET", "/v1/accounts/\(world.mia)/keys")
            #expect((listed.json["keys"] as? [[String: Any]])?.count == 2)
            let shown = try await api.request("GET", "/v1/accounts/\(world.mia)/keys/\(fingerprint.lowercased())")
            #expect(shown.status == 200 && shown.json["fingerprint"] as? String == fingerprint && shown.json["status"] as? String == "valid")

            let address = HTTPTestClient.segment("mia@example.org")
            #expect(try await api.request("PUT", "/v1/accounts/\(world.mia)/bindings/\(address)", json: #"{"fingerprint": "\#(fingerprint)"}"#).status == 204)
            let mismatch = try await api.request("PUT", "/v1/accounts/\(world.mia)/bindings/\(HTTPTestClient.segment("other@example.org"))",
                                                 json: #"{"fingerprint": "\#(fingerprint)"}"#)
            #expect(mismatch.status == 422 && mismatch.code == "user_id_mismatch")
            #expect((try await api.request("GET", "/v1/accounts/\(world.mia)/keys/\(fingerprint)").json["boundAddresses"] as? [String]) == ["mia@example.org"])
            #expect(try await api.request("DELETE", "/v1/accounts/\(world.mia)/bindings/\(address)").status == 204)
            #expect(try await api.request("DELETE", "/v1/accounts/\(world.mia)/bindings/\(address)").code == "not_bound")
            #expect(try await api.request("DELETE", "/v1/accounts/\(world.mia)/keys/\(fingerprint)").status == 204)
            #expect(try await api.request("GET", "/v1/accounts/\(world.mia)/keys/\(fingerprint)").status == 404)
        }
    }

    @Test("Secret keys through the API: stored, handed back as stored, refused unprotected, deleted")
    func secretKeys() async throws {
        let world = try await World.make()
        defer { world.close() }
        let gpg = try GnuPGHome()
        try await gpg.generate("mia@example.org", passphrase: "correct horse")
        try await gpg.generate("plain@example.org", passphrase: "")
        let fingerprint = try await gpg.fingerprint("mia@example.org")
        let protected = Data(try await gpg.secretKey("mia@example.org", passphrase: "correct horse"))
        let plain = Data(try await gpg.secretKey("plain@example.org", passphrase: ""))
        _ = try await world.keystore.importCertificates(try await gpg.publicKey("mia@example.org"), for: world.mia, by: World.actor)
        _ = try await world.keystore.importCertificates(try await gpg.publicKey("plain@example.org"), for: world.mia, by: World.actor)
        await gpg.remove()
        try await serving(world) { api in
            let stored = try await api.request("POST", "/v1/accounts/\(world.mia)/secret-keys", body: protected, contentType: "application/pgp-keys")
            #expect(stored.status == 201 && stored.json["fingerprint"] as? String == fingerprint)
            let fetched = try await api.request("GET", "/v1/accounts/\(world.mia)/secret-keys/\(fingerprint)")
            let kept = try await world.keystore.secretKey(fingerprint, of: world.mia)
            #expect(fetched.status == 200 && Array(fetched.body) == kept)
            #expect(try await api.request("GET", "/v1/accounts/\(world.bob)/secret-keys/\(fingerprint)").status == 404)
            let refused = try await api.request("POST", "/v1/accounts/\(world.mia)/secret-keys", body: plain, contentType: "application/pgp-keys")
            #expect(refused.status == 422 && refused.code == "unprotected_secret_key")
            #expect(try await api.request("DELETE", "/v1/accounts/\(world.mia)/secret-keys/\(fingerprint)").status == 204)
            #expect(try await api.request("GET", "/v1/accounts/\(world.mia)/secret-keys/\(fingerprint)").status == 404)
        }
    }

    @Test("An oversize body sent chunked (no Content-Length) is refused once the limit is passed")
    func chunkedOversize() async throws {
        let world = try await World.make(maxImportSize: 4096)
        defer { world.close() }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-chunked-\(UUID().uuidString.prefix(8))")
        try Data(repeating: 0x99, count: 50_000).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        try await serving(world) { api in
            let output = try await ChildProcess.run("/usr/bin/curl", [
                "-s", "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(Self.token)", "-H", "Transfer-Encoding: chunked",
                "-H", "Content-Type: application/pgp-keys", "--data-binary", "@\(file.path)", api.base.absoluteString + "/v1/accounts/\(world.mia)/keys",
            ])
            #expect(output.hasSuffix("\n413"), "\(output)")
            #expect(output.contains("key_too_large"))
        }
        #expect(try await world.count("SELECT count(*) FROM keys") == 0)
    }

    @Test("Refused imports answer a deliberate status and code, store nothing, and are audited", arguments: [
        ("garbage", 422, "invalid_key"), ("secret", 422, "secret_key_material"), ("oversize", 413, "key_too_large"),
    ])
    func refusals(kind: String, status: Int, code: String) async throws {
        let world = try await World.make(maxImportSize: 4096)
        defer { world.close() }
        let body: Data = switch kind {
        case "garbage": Data("not a key".utf8)
        case "secret": Data(try await GnuPGHome.armoredSecretKey())
        default: Data(repeating: 0x99, count: 5000)
        }
        try await serving(world) { api in
            let reply = try await api.request("POST", "/v1/accounts/\(world.mia)/keys", body: body, contentType: "application/pgp-keys")
            #expect(reply.status == status && reply.code == code, "\(reply.text)")
        }
        #expect(try await world.count("SELECT count(*) FROM keys") == 0)
        #expect(try await world.count("SELECT count(*) FROM audit_log WHERE details->>'outcome' = 'refused' AND details->>'code' = '\(code)' AND actor = 'api:webmail'") == 1)
    }
}

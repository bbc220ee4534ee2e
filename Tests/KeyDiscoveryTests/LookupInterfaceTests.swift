import Aliases
import Core
import CoreTestSupport
import Foundation
import HTTPService
import KeyDiscovery
import Keystore
import KeystoreAPI
import OpenPGP
import Testing

/// `GET /v1/lookup`, importing what it found, and `platformctl keys lookup` / `import-discovered`.
@Suite("Key look-up through the API and platformctl")
struct LookupInterfaceTests {
    let world: DiscoveryWorld
    static let token = "0123456789abcdef0123456789abcdef-webmail"

    init() async throws {
        world = try await DiscoveryWorld.make()
    }

    func serving(now: @escaping @Sendable () -> Date = { Date() }, _ body: (HTTPTestClient, AccountKeystore) async throws -> Void) async throws {
        let keystore = AccountKeystore(pool: world.servicePool, logger: world.db.logger)
        try await HTTPTestClient.serving(token: Self.token, logger: world.db.logger, { onListening in
            KeystoreApplication.make(keystore: keystore, lookup: world.lookup(now: now), tokens: BearerTokens(["webmail:\(Self.token)"]),
                                     host: "127.0.0.1", port: 0, logger: world.db.logger, onListening: onListening)
        }) { try await body($0, keystore) }
    }

    func account() async throws -> Int64 {
        try await AliasDirectory(pool: world.db.pool, rules: AddressRules(), logger: world.db.logger)
            .createAccount(primary: "\(DiscoveryWorld.unique())@\(DiscoveryWorld.ownDomain)", by: AliasDirectory.Actor(name: "test")).id
    }

    @Test("200 with the key and its source, 404 for no key, 502 for a failure; every answer says what each source said")
    func statuses() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let found = "\(local)@wkd-direct.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([found])
        try world.serveWKD(key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let time = Date()
        try await serving(now: { time }) { api, _ in
            #expect(try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment(found))", token: .some(nil)).status == 401)
            let hit = try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment(found))")
            #expect(hit.status == 200)
            #expect(hit.json["outcome"] as? String == "found" && hit.json["source"] as? String == "wkd" && hit.json["cached"] as? Bool == false)
            #expect(hit.json["lookedUpAt"] is String && hit.json["expiresAt"] is String)
            let keys = try #require(hit.json["keys"] as? [[String: Any]])
            #expect(keys.first?["fingerprint"] as? String == fingerprint)
            let armored = try #require(keys.first?["certificate"] as? String)
            #expect(armored.hasPrefix("-----BEGIN PGP PUBLIC KEY BLOCK-----"))
            #expect(try Certificate.parse(Array(armored.utf8)).first?.fingerprint.hex == fingerprint)
            let again = try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment(found))")
            #expect(again.json["cached"] as? Bool == true)

            let none = try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment("\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"))")
            #expect(none.status == 404 && none.json["outcome"] as? String == "not_found")
            #expect((none.json["attempts"] as? [[String: Any]])?.compactMap { $0["source"] as? String } == ["wkd", "vks"])

            let limited = "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example"
            world.vks.limit("/vks/v1/by-email/\(limited)", retryAfter: 90)
            let failed = try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment(limited))")
            #expect(failed.status == 502 && failed.json["outcome"] as? String == "failed")
            #expect(failed.headers["retry-after"] == "90")

            let bad = try await api.request("GET", "/v1/lookup?email=nobody")
            #expect(bad.status == 400 && bad.code == "invalid_address")
            #expect(try await api.request("GET", "/v1/lookup").code == "invalid_address")
            #expect(try await api.request("GET", "/v1/lookup?email=\(HTTPTestClient.segment(found))&refresh=maybe").code == "invalid_request")
        }
    }

    @Test("An account imports a found key with its source; a key the look-up did not find is refused")
    func importDiscovered() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let account = try await account()
        try await serving { api, keystore in
            let imported = try await api.request("POST", "/v1/accounts/\(account)/keys/discovered",
                                                 json: #"{"email": "\#(address)", "fingerprint": "\#(fingerprint.lowercased())"}"#)
            #expect(imported.status == 200)
            #expect((imported.json["imported"] as? [[String: Any]])?.first?["outcome"] as? String == "new")
            let record = try await keystore.key(fingerprint, of: account)
            #expect(record.source == "vks")
            #expect(record.userIDs.map(\.text) == ["Test <\(address)>"])
            // Kept fresh through the VKS from now on.
            #expect(try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'vks.refresh' AND payload->>'fingerprint' = '\(fingerprint)'") == 1)

            let wrong = try await api.request("POST", "/v1/accounts/\(account)/keys/discovered",
                                              json: #"{"email": "\#(address)", "fingerprint": "\#(String(repeating: "AB", count: 20))"}"#)
            #expect(wrong.status == 404 && wrong.code == "key_not_found")
            let nothing = try await api.request("POST", "/v1/accounts/\(account)/keys/discovered",
                                                json: #"{"email": "\#(DiscoveryWorld.unique())@wkd-none.secure.palisade.example", "fingerprint": "\#(fingerprint)"}"#)
            #expect(nothing.status == 404 && nothing.message.contains("it said: not_found"))
            let broken = try await api.request("POST", "/v1/accounts/\(account)/keys/discovered",
                                               json: #"{"email": "\#(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example", "fingerprint": "\#(fingerprint)"}"#)
            #expect(broken.status == 502 && broken.code == "lookup_failed" && broken.message.contains("HTTP 503"))
            let malformed = try await api.request("POST", "/v1/accounts/\(account)/keys/discovered",
                                                  json: #"{"email": "\#(address)", "fingerprint": "0xDEADBEEF"}"#)
            #expect(malformed.status == 400 && malformed.code == "invalid_request")
            #expect(try await world.db.count("SELECT count(*) FROM account_keys WHERE account_id = \(account)") == 1)
        }
    }

    @Test("An account that imports a key found for one address sees that User ID only, whatever the owner's copy holds")
    func otherUserIDsStayHidden() async throws {
        defer { world.close() }
        let aliases = AliasDirectory(pool: world.db.pool, rules: AddressRules(), logger: world.db.logger)
        let op = AliasDirectory.Actor(name: "test")
        let address = "\(DiscoveryWorld.unique())@\(DiscoveryWorld.ownDomain)"
        let secret = "\(DiscoveryWorld.unique())@\(DiscoveryWorld.ownDomain)"
        let owner = try await aliases.createAccount(primary: address, by: op).id
        _ = try await aliases.createAlias(secret, for: owner, by: op)
        let (fingerprint, key) = try await TestKeys.shared.make([address, secret])
        let reader = try await account()
        try await serving { api, keystore in
            _ = try await keystore.importCertificates(key, for: owner, by: "test")
            try await keystore.bind(address, to: fingerprint, of: owner, by: "test")
            let imported = try await api.request("POST", "/v1/accounts/\(reader)/keys/discovered",
                                                 json: #"{"email": "\#(address)", "fingerprint": "\#(fingerprint)"}"#)
            #expect(imported.status == 200)
            #expect(try await keystore.key(fingerprint, of: reader).userIDs.map(\.text) == ["Test <\(address)>"])
            #expect(try await keystore.key(fingerprint, of: reader).source == "local")
            let shown = try await api.request("GET", "/v1/accounts/\(reader)/keys/\(fingerprint)")
            #expect(!shown.text.contains(secret))
            // The owner still sees both.
            #expect(Set(try await keystore.key(fingerprint, of: owner).userIDs.map(\.text)) == ["Test <\(address)>", "Other <\(secret)>"])
        }
    }

    func platformctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-discovery-\(DiscoveryWorld.unique()).yaml")
        defer { try? FileManager.default.removeItem(at: config) }
        let stubs = world.world.stubZones.map { "\"\($0)\"" }.joined(separator: ", ")
        try """
            dns:
              trustAnchorFiles: ["\(world.world.trustAnchorFile)"]
              stubZones: [\(stubs)]
            http:
              caFile: "\(world.world.certificateAuthorityFile)"
            discovery:
              vks:
                url: "\(world.vksURL.absoluteString)"
              wkd:
                port: \(world.world.httpsPort)
              allowPrivateAddresses: true
            """.write(to: config, atomically: true, encoding: .utf8)
        return try await world.db.platformctl(arguments + ["--config", config.path])
    }

    @Test("platformctl keys lookup: exit 0 found, 7 none, 8 failed; --forget; import-discovered records the source")
    func platformctlCommands() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-advanced.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-advanced.secure.palisade.example", method: .advanced)

        let found = try await platformctl(["keys", "lookup", address])
        #expect(found.status == 0)
        #expect(found.output.contains("\(address): found (from wkd)") && found.output.contains("key \(fingerprint)"))
        #expect(found.output.contains("advanced"))
        let json = try await platformctl(["keys", "lookup", "--json", address])
        #expect(json.status == 0 && json.output.contains("\"cached\" : true"))
        let none = try await platformctl(["keys", "lookup", "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"])
        #expect(none.status == 7 && none.output.contains("not_found"))
        let failed = try await platformctl(["keys", "lookup", "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example"])
        #expect(failed.status == 8 && failed.output.contains("HTTP 503"))
        #expect(try await platformctl(["keys", "lookup", "not-an-address"]).status == 5)
        let forgot = try await platformctl(["keys", "lookup", "--forget", address])
        #expect(forgot.status == 0 && forgot.output.contains("forgot"))

        let account = try await account()
        let imported = try await platformctl(["keys", "import-discovered", "--account", String(account), address, fingerprint])
        #expect(imported.status == 0 && imported.output.contains("wkd"))
        #expect(try await world.db.count("SELECT count(*) FROM account_keys WHERE account_id = \(account) AND source = 'wkd'") == 1)
        let missing = try await platformctl(["keys", "import-discovered", "--account", String(account), address, String(repeating: "AB", count: 20)])
        #expect(missing.status == 5 && missing.output.contains("key_not_found"))
        let unreachable = try await platformctl(["keys", "import-discovered", "--account", String(account),
                                                 "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example", fingerprint])
        #expect(unreachable.status == 8 && unreachable.output.contains("lookup_failed"))
    }
}

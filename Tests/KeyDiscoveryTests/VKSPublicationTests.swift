import Core
import CoreTestSupport
import Foundation
import HTTPService
import KeyDiscovery
import Keystore
import KeystoreAPI
import OpenPGP
import Synchronization
import Testing
import VKSSync

/// Publishing a user's key at the VKS with their consent: `POST|GET /v1/accounts/:account/keys/:fingerprint/vks`.
@Suite("Publishing keys at the VKS")
struct VKSPublicationTests {
    static let token = "0123456789abcdef0123456789abcdef-webmail"

    @Test("Only the chosen address's User ID is uploaded, its verification is requested, the state recorded; strangers' addresses refused")
    func publish() async throws {
        try await VKSSyncTests.withSetup { setup in
            // A second User ID in the account's copy that the user does not choose to publish.
            _ = try await setup.home.gpg(["--quick-add-uid", setup.fingerprint.hex, "Private <private@elsewhere.example>"])
            let keystore = AccountKeystore(pool: setup.world.servicePool, logger: setup.world.db.logger)
            _ = try await keystore.importCertificates(try await setup.exported(), for: setup.account, by: "test")
            let publication = VKSKeyPublication(keystore: keystore, client: VKSClient(fetcher: setup.world.fetcher, configuration: setup.world.configuration()))
            try await HTTPTestClient.serving(token: Self.token, logger: setup.world.db.logger, { onListening in
                KeystoreApplication.make(keystore: keystore, publication: publication, tokens: BearerTokens(["webmail:\(Self.token)"]),
                                         host: "127.0.0.1", port: 0, logger: setup.world.db.logger, onListening: onListening)
            }) { client in
                let path = "/v1/accounts/\(setup.account)/keys/\(setup.fingerprint.hex)/vks"
                // The same address twice, written differently, is one address.
                let published = try await client.request("POST", path, json: #"{"addresses": ["\#(setup.address)", "\#(setup.address.uppercased())"]}"#)
                #expect(published.status == 200, "\(published.text)")
                let states = try #require(published.json["addresses"] as? [[String: Any]])
                #expect(states.count == 1 && states.first?["address"] as? String == setup.address && states.first?["state"] as? String == "pending",
                        "\(published.text)")
                // What the VKS received: the one chosen User ID, and a verification request for it.
                let atVKS = setup.world.vks.state.withLock { state in (state.keys[setup.fingerprint.hex]?.addresses, state.pending) }
                #expect(atVKS.0 == [setup.address])
                #expect(atVKS.1.contains("\(setup.fingerprint.hex) \(setup.address)"))
                let recorded = try await client.request("GET", path)
                #expect(recorded.status == 200 && (recorded.json["addresses"] as? [[String: Any]])?.first?["state"] as? String == "pending")
                #expect(try await setup.world.db.count("SELECT count(*) FROM audit_log WHERE action = 'key.vks_publish' AND details->>'outcome' = 'ok'") == 1)

                // Not the account's address (though in the key), and not the account's key.
                let stranger = try await client.request("POST", path, json: #"{"addresses": ["private@elsewhere.example"]}"#)
                #expect(stranger.status == 404 && stranger.code == "address_not_found", "\(stranger.text)")
                let notHeld = try await client.request("POST", "/v1/accounts/\(setup.account)/keys/\(String(repeating: "AB", count: 20))/vks",
                                                       json: #"{"addresses": ["\#(setup.address)"]}"#)
                #expect(notHeld.status == 404 && notHeld.code == "key_not_found", "\(notHeld.text)")
            }
        }
    }
}

import Core
import CoreTestSupport
import Foundation
import HTTPService
import KeyDiscovery
import Keystore
import KeystoreAPI
import OpenPGP
import Testing
import VKSSync

/// Signature validation through the VKS: `SignerCheck` and `GET /v1/signers/:fingerprint`.
@Suite("Signer checks through the VKS")
struct SignerCheckTests {
    static let token = "0123456789abcdef0123456789abcdef-webmail"

    func signers(_ setup: VKSSyncTests.Setup, _ configuration: KeyDiscoveryConfiguration? = nil) -> SignerCheck {
        SignerCheck(pool: setup.world.servicePool, client: VKSClient(fetcher: setup.world.fetcher, configuration: configuration ?? setup.world.configuration()),
                    logger: setup.world.db.logger)
    }

    /// The fingerprint of the stored key's (encryption) subkey: what a signature's issuer names when a subkey signs.
    func subkey(_ setup: VKSSyncTests.Setup) throws -> Fingerprint {
        try #require(try Certificate.parse(setup.stored).first?.subkeys.first).key.fingerprint
    }

    @Test("Asked by a subkey's fingerprint: our key, checked against the VKS now; a revocation there is in the answer and in our keystore")
    func freshRevocation() async throws {
        let setup = try await VKSSyncTests.setup()
        defer { setup.close() }
        let revoked = try VKSSyncTests.inserting(try setup.revocation(), into: setup.stored)
        try setup.world.vks.publish(try VKSSyncTests.withoutIdentities(revoked), verified: [])
        let issuer = try subkey(setup)
        let answer = try await signers(setup).check(issuer: issuer)
        #expect(answer.fingerprint == setup.fingerprint.hex && answer.issuer == issuer.hex)
        #expect(answer.status == "revoked" && answer.stored && answer.fresh && answer.vks == "found" && answer.error == nil)
        #expect(try Certificate.parse(Array(answer.certificate.utf8)).first?.userIDs.count == 1)
        #expect(try await setup.storedCertificate.status == "revoked")
        #expect(try await setup.pendingWKDJobs() == 1)
        #expect(try await setup.world.db.count("SELECT count(*) FROM keys WHERE last_used_at IS NOT NULL") == 1)
    }

    @Test("When the VKS does not answer: the last known status, marked not fresh; a key we do not store is then unavailable")
    func lastKnown() async throws {
        let setup = try await VKSSyncTests.setup()
        defer { setup.close() }
        var unreachable = setup.world.configuration()
        unreachable.vksURL = URL(string: "https://nowhere.secure.palisade.example:\(setup.world.world.httpsPort)")!
        let answer = try await signers(setup, unreachable).check(issuer: setup.fingerprint)
        #expect(answer.status == "valid" && answer.stored && !answer.fresh && answer.vks == "unavailable" && answer.error != nil)
        await #expect(throws: SignerCheck.Failure.self) {
            try await signers(setup, unreachable).check(issuer: try Fingerprint(String(repeating: "AB", count: 20)))
        }
    }

    @Test("A key we do not store is answered from the VKS's copy and not stored; a key nobody has is not found")
    func notOurs() async throws {
        let setup = try await VKSSyncTests.setup()
        defer { setup.close() }
        let other = try await setup.home.generate("\(DiscoveryWorld.unique("s"))@elsewhere.example", passphrase: "")
        let armored = try await setup.home.gpg(["--armor", "--export", other])
        try setup.world.vks.publish(try #require(try Armor.decode(Array(armored.utf8)).first).data, verified: [])
        let answer = try await signers(setup).check(issuer: try Fingerprint(other))
        #expect(answer.fingerprint == other && answer.status == "valid" && !answer.stored && answer.fresh)
        #expect(try await setup.world.db.count("SELECT count(*) FROM keys") == 1)
        await #expect(throws: SignerCheck.Failure.notFound("no key has the fingerprint \(String(repeating: "CD", count: 20))")) {
            try await signers(setup).check(issuer: try Fingerprint(String(repeating: "CD", count: 20)))
        }
    }

    @Test("GET /v1/signers/:fingerprint: 200 with the answer, 404 key_not_found, 400 for what is not a fingerprint")
    func api() async throws {
        let setup = try await VKSSyncTests.setup()
        defer { setup.close() }
        try setup.world.vks.publish(setup.stored, verified: [])
        let keystore = AccountKeystore(pool: setup.world.servicePool, logger: setup.world.db.logger)
        try await HTTPTestClient.serving(token: Self.token, logger: setup.world.db.logger, { onListening in
            KeystoreApplication.make(keystore: keystore, signers: signers(setup), tokens: BearerTokens(["webmail:\(Self.token)"]),
                                     host: "127.0.0.1", port: 0, logger: setup.world.db.logger, onListening: onListening)
        }) { client in
            let found = try await client.request("GET", "/v1/signers/\(try subkey(setup).hex.lowercased())")
            #expect(found.status == 200, "\(found.text)")
            #expect(found.json["fingerprint"] as? String == setup.fingerprint.hex && found.json["fresh"] as? Bool == true
                    && found.json["status"] as? String == "valid", "\(found.text)")
            let missing = try await client.request("GET", "/v1/signers/\(String(repeating: "EF", count: 20))")
            #expect(missing.status == 404 && missing.code == "key_not_found", "\(missing.text)")
            let bad = try await client.request("GET", "/v1/signers/xyz")
            #expect(bad.status == 400 && bad.code == "invalid_request", "\(bad.text)")
        }
    }
}

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

    /// A fingerprint no key has, of its own: the test VKS is shared, and other tests count its requests by path.
    static func unknownFingerprint() throws -> Fingerprint {
        try Fingerprint((0..<20).map { _ in String(format: "%02X", UInt8.random(in: 0...255)) }.joined())
    }

    func signers(_ setup: VKSSyncTests.Setup, _ configuration: KeyDiscoveryConfiguration? = nil) -> SignerCheck {
        SignerCheck(pool: setup.world.servicePool, client: VKSClient(fetcher: setup.world.fetcher, configuration: configuration ?? setup.world.configuration()),
                    logger: setup.world.db.logger)
    }

    /// The key of `setup` with a signing subkey added (at gpg, then imported into the keystore: the
    /// encryption subkey and the signing one); what a signature's issuer names when a subkey signs.
    func withSigningSubkey(_ setup: VKSSyncTests.Setup) async throws -> (certificate: [UInt8], signing: Fingerprint, encryption: Fingerprint) {
        _ = try await setup.home.gpg(["--quick-add-key", setup.fingerprint.hex, "ed25519", "sign", "never"])
        let exported = try await setup.exported()
        _ = try await AccountKeystore(pool: setup.world.servicePool, logger: setup.world.db.logger)
            .importCertificates(exported, for: setup.account, by: "test")
        try await setup.world.db.pool.query("DELETE FROM jobs")
        let subkeys = try #require(try Certificate.parse(exported).first).validated(at: UInt32(Date().timeIntervalSince1970)).subkeys
        let signing = try #require(subkeys.first { ($0.keyFlags & 0x02) != 0 }).fingerprint
        let encryption = try #require(subkeys.first { ($0.keyFlags & 0x02) == 0 }).fingerprint
        let stored: [UInt8] = try #require(try await setup.world.db.pool.query("SELECT certificate FROM keys WHERE fingerprint = \(setup.fingerprint.hex)").first)
            .decode("certificate")
        return (stored, signing, encryption)
    }

    @Test("Asked by a subkey's fingerprint: our key, checked against the VKS now; a revocation there is in the answer and in our keystore")
    func freshRevocation() async throws {
        try await VKSSyncTests.withSetup { setup in
            let key = try await withSigningSubkey(setup)
            let revoked = try VKSSyncTests.inserting(try setup.revocation(), into: key.certificate)
            try setup.world.vks.publish(try VKSSyncTests.withoutIdentities(revoked), verified: [])
            let answer = try await signers(setup).check(issuer: key.signing)
            #expect(answer.fingerprint == setup.fingerprint.hex && answer.issuer == key.signing.hex)
            #expect(answer.status == "revoked" && answer.issuerStatus == "revoked" && answer.stored && answer.fresh && answer.vks == "found"
                    && answer.error == nil)
            #expect(try Certificate.parse(Array(answer.certificate.utf8)).first?.userIDs.count == 1)
            #expect(try await setup.storedCertificate.status == "revoked")
            #expect(try await setup.pendingWKDJobs() == 1)
            #expect(try await setup.world.db.count("SELECT count(*) FROM keys WHERE last_used_at IS NOT NULL") == 1)
        }
    }

    @Test("When the VKS does not answer: the last known status, marked not fresh; a key we do not store is then unavailable")
    func lastKnown() async throws {
        try await VKSSyncTests.withSetup { setup in
            var unreachable = setup.world.configuration()
            unreachable.vksURL = URL(string: "https://nowhere.secure.palisade.example:\(setup.world.world.httpsPort)")!
            let answer = try await signers(setup, unreachable).check(issuer: setup.fingerprint)
            #expect(answer.status == "valid" && answer.stored && !answer.fresh && answer.vks == "unavailable" && answer.error != nil)
            await #expect(throws: SignerCheck.Failure.self) {
                try await signers(setup, unreachable).check(issuer: try Fingerprint(String(repeating: "AB", count: 20)))
            }
        }
    }

    @Test("A key we do not store is answered from the VKS's copy and not stored; a key nobody has is not found")
    func notOurs() async throws {
        try await VKSSyncTests.withSetup { setup in
            let other = try await setup.home.generate("\(DiscoveryWorld.unique("s"))@elsewhere.example", passphrase: "")
            let armored = try await setup.home.gpg(["--armor", "--export", other])
            try setup.world.vks.publish(try #require(try Armor.decode(Array(armored.utf8)).first).data, verified: [])
            let answer = try await signers(setup).check(issuer: try Fingerprint(other))
            #expect(answer.fingerprint == other && answer.status == "valid" && !answer.stored && answer.fresh)
            #expect(try await setup.world.db.count("SELECT count(*) FROM keys") == 1)
            let nobodys = try Self.unknownFingerprint()
            await #expect(throws: SignerCheck.Failure.notFound("no key has the fingerprint \(nobodys.hex)")) {
                try await signers(setup).check(issuer: nobodys)
            }
        }
    }

    @Test("GET /v1/signers/:fingerprint: 200 with the answer, 404 key_not_found, 400 for what is not a fingerprint")
    func api() async throws {
        try await VKSSyncTests.withSetup { setup in
            let key = try await withSigningSubkey(setup)
            try setup.world.vks.publish(key.certificate, verified: [])
            let keystore = AccountKeystore(pool: setup.world.servicePool, logger: setup.world.db.logger)
            try await HTTPTestClient.serving(token: Self.token, logger: setup.world.db.logger, { onListening in
                KeystoreApplication.make(keystore: keystore, signers: signers(setup), tokens: BearerTokens(["webmail:\(Self.token)"]),
                                         host: "127.0.0.1", port: 0, logger: setup.world.db.logger, onListening: onListening)
            }) { client in
                let found = try await client.request("GET", "/v1/signers/\(key.signing.hex.lowercased())")
                #expect(found.status == 200, "\(found.text)")
                #expect(found.json["fingerprint"] as? String == setup.fingerprint.hex && found.json["fresh"] as? Bool == true
                        && found.json["status"] as? String == "valid" && found.json["issuerStatus"] as? String == "valid", "\(found.text)")
                // The encryption subkey made no signature that holds.
                let encryption = try await client.request("GET", "/v1/signers/\(key.encryption.hex)")
                #expect(encryption.status == 200 && encryption.json["issuerStatus"] as? String == "not_signing", "\(encryption.text)")
                let missing = try await client.request("GET", "/v1/signers/\(try Self.unknownFingerprint().hex)")
                #expect(missing.status == 404 && missing.code == "key_not_found", "\(missing.text)")
                let bad = try await client.request("GET", "/v1/signers/xyz")
                #expect(bad.status == 400 && bad.code == "invalid_request", "\(bad.text)")
            }
        }
    }
}

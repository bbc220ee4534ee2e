import Core
import CoreTestSupport
import Foundation
import Keystore
import Testing

/// The account keystore against a real PostgreSQL, acting as `palisade_keystore`, with certificates made
/// by gpg and sq.
@Suite("Account keystore")
struct AccountKeystoreTests {
    typealias World = KeystoreWorld

    @Test("Re-importing merges: a new User ID and subkey, then a revocation; a partial copy changes nothing")
    func mergeOnReimport() async throws {
        let world = try await World.make()
        defer { world.close() }
        let keystore = world.keystore
        let fingerprint = World.miaFingerprint
        #expect(try await keystore.importCertificates(World.fixture("merge-1.pgp"), for: world.mia, by: World.actor).map(\.outcome) == [.new])
        #expect(try await keystore.key(fingerprint, of: world.mia).userIDs.map(\.email) == ["mia@example.org"])
        #expect(try await keystore.importCertificates(World.fixture("merge-2.pgp"), for: world.mia, by: World.actor).map(\.outcome) == [.merged])
        #expect(try await keystore.importCertificates(World.fixture("merge-2-work-only.pgp"), for: world.mia, by: World.actor).map(\.outcome) == [.unchanged])
        var key = try await keystore.key(fingerprint, of: world.mia)
        #expect(Set(key.userIDs.compactMap(\.email)) == ["mia@example.org", "mia@work.example"] && key.subkeys == 1 && key.status == "valid")
        #expect(try await keystore.importCertificates(World.fixture("merge-3-work-revoked.pgp"), for: world.mia, by: World.actor).map(\.outcome) == [.merged])
        key = try await keystore.key(fingerprint, of: world.mia)
        #expect(key.userIDs.first { $0.email == "mia@work.example" }?.revoked == true)
        // gpg 2.2 makes Ed25519 keys in the legacy EdDSA form.
        #expect(key.source == "upload" && key.algorithm == "EdDSA (legacy) Ed25519 (legacy OID)")
        #expect(try await world.jobs("vks.refresh", "fingerprint", fingerprint) == 1)
        #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action = 'key.import' AND details->>'outcome' = 'ok'") == 4)
    }

    @Test("A keyring imports each certificate; a certificate without a User ID is kept")
    func keyring() async throws {
        let world = try await World.make()
        defer { world.close() }
        let results = try await world.keystore.importCertificates(World.fixture("keyring.pgp"), for: world.bob, by: World.actor)
        #expect(results.count == 4 && results.allSatisfy { $0.outcome == .new })
        #expect(try await world.keystore.keys(of: world.bob).count == 4)
        let bare = try await world.keystore.importCertificates(World.fixture("sq-no-userid.pgp"), for: world.bob, by: World.actor)
        #expect(bare.count == 1)
        let key = try await world.keystore.key(bare[0].fingerprint, of: world.bob)
        #expect(key.userIDs.isEmpty && key.status == "valid")
        #expect(try await world.count("SELECT count(*) FROM keys WHERE NOT has_user_id") == 1)
        // Two copies of one key in one keyring are one certificate with what both hold.
        let twice = try World.fixture("merge-1.pgp") + World.fixture("merge-2-work-only.pgp")
        let united = try await world.keystore.importCertificates(twice, for: world.bob, by: World.actor)
        #expect(united.map(\.outcome) == [.new])
        #expect(try await world.keystore.key(World.miaFingerprint, of: world.bob).userIDs.count == 2)
    }

    @Test("Unparsable, oversize, secret and unsigned keys are refused with nothing stored", arguments: [
        "garbage", "oversize", "secret", "broken-self-signature", "empty-armor",
    ])
    func refusals(kind: String) async throws {
        let world = try await World.make(maxImportSize: kind == "oversize" ? 1024 : 1 << 20)
        defer { world.close() }
        let expected: KeystoreError.Code
        let data: [UInt8]
        switch kind {
        case "garbage":
            (data, expected) = (Array("this is not a key".utf8), .invalidKey)
        case "oversize":
            (data, expected) = (try World.fixture("keyring.pgp"), .keyTooLarge)
        case "secret":
            (data, expected) = (try await GnuPGHome.armoredSecretKey(), .secretKeyMaterial)
        case "broken-self-signature":
            // The only User ID's self-signature, its last byte changed: nothing holds the key up.
            var bytes = try World.fixture("merge-1.pgp")
            bytes[bytes.count - 1] ^= 0x01
            (data, expected) = (bytes, .noValidSelfSignature)
        default:
            (data, expected) = (Array("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n=twTO\n-----END PGP PUBLIC KEY BLOCK-----\n".utf8), .invalidKey)
        }
        #expect(await refusal { _ = try await world.keystore.importCertificates(data, for: world.mia, by: World.actor) } == expected)
        #expect(try await world.count("SELECT count(*) FROM keys") == 0)
        #expect(try await world.count("SELECT count(*) FROM account_keys") == 0)
        #expect(try await world.count("SELECT count(*) FROM jobs WHERE kind = 'vks.refresh'") == 0)
        #expect(try await world.count("SELECT count(*) FROM audit_log WHERE action = 'key.import' AND details->>'code' = '\(expected.rawValue)'") == 1)
    }

    @Test("Binding: the account's own address, a valid User ID with exactly that address, one key per address")
    func binding() async throws {
        let world = try await World.make()
        defer { world.close() }
        let keystore = world.keystore
        let mia = World.miaFingerprint
        _ = try await keystore.importCertificates(World.fixture("merge-2.pgp"), for: world.mia, by: World.actor)
        let expired = try await keystore.importCertificates(World.fixture("expired.pgp"), for: world.mia, by: World.actor)[0].fingerprint
        let other = try await keystore.importCertificates(World.fixture("ed25519-signing-subkey.pgp"), for: world.bob, by: World.actor)[0].fingerprint

        try await keystore.bind("Mia@Example.org", to: mia, of: world.mia, by: World.actor)
        #expect(try await world.jobs("wkd.refresh", "address", "mia@example.org") >= 1)
        #expect(try await keystore.key(mia, of: world.mia).boundAddresses == ["mia@example.org"])
        try await keystore.bind("mia@work.example", to: mia, of: world.mia, by: World.actor)
        #expect(await refusal { try await keystore.bind("other@example.org", to: mia, of: world.mia, by: World.actor) } == .userIDMismatch)
        #expect(await refusal { try await keystore.bind("old@example.org", to: expired, of: world.mia, by: World.actor) } == .addressNotFound)
        #expect(await refusal { try await keystore.bind("mia@example.org", to: expired, of: world.mia, by: World.actor) } == .keyNotUsable)
        #expect(await refusal { try await keystore.bind("mia@example.org", to: other, of: world.mia, by: World.actor) } == .keyNotFound)
        #expect(await refusal { try await keystore.bind("bob@example.org", to: mia, of: world.mia, by: World.actor) } == .addressNotFound)
        #expect(try await world.count("SELECT count(*) FROM key_addresses") == 2)

        // The work User ID is revoked by a later copy: a new binding for it is refused.
        _ = try await keystore.importCertificates(World.fixture("merge-3-work-revoked.pgp"), for: world.mia, by: World.actor)
        try await keystore.unbind("mia@work.example", of: world.mia, by: World.actor)
        #expect(await refusal { try await keystore.unbind("mia@work.example", of: world.mia, by: World.actor) } == .notBound)
        #expect(await refusal { try await keystore.bind("mia@work.example", to: mia, of: world.mia, by: World.actor) } == .userIDMismatch)
        #expect(try await world.count("SELECT count(*) FROM key_addresses") == 1)
    }

    @Test("Deleting a key removes the account's bindings; the certificate stays while another account holds it")
    func deletion() async throws {
        let world = try await World.make()
        defer { world.close() }
        let keystore = world.keystore
        let mia = World.miaFingerprint
        _ = try await keystore.importCertificates(World.fixture("merge-2.pgp"), for: world.mia, by: World.actor)
        _ = try await keystore.importCertificates(World.fixture("merge-1.pgp"), for: world.bob, by: World.actor)
        try await keystore.bind("mia@example.org", to: mia, of: world.mia, by: World.actor)
        let refreshes = try await world.jobs("wkd.refresh", "address", "mia@example.org")
        try await keystore.deleteKey(mia.lowercased(), of: world.mia, by: World.actor)
        #expect(try await world.count("SELECT count(*) FROM key_addresses") == 0)
        #expect(try await world.jobs("wkd.refresh", "address", "mia@example.org") == refreshes, "folded into the waiting job")
        #expect(await refusal { _ = try await keystore.key(mia, of: world.mia) } == .keyNotFound)
        // Bob still holds it, and sees the User IDs he imported (not those only Mia's copy carried).
        #expect(try await world.count("SELECT count(*) FROM keys") == 1)
        #expect(try await keystore.key(mia, of: world.bob).userIDs.map(\.email) == ["mia@example.org"])
        try await keystore.deleteKey(mia, of: world.bob, by: World.actor)
        #expect(try await world.count("SELECT count(*) FROM keys") == 0)
        #expect(await refusal { try await keystore.deleteKey(mia, of: world.bob, by: World.actor) } == .keyNotFound)
    }
}

import Core
import CoreTestSupport
import Foundation
import Keystore
import Testing

/// Secret keys as clients encrypt them, made by gpg: kept only when protected and matching a stored
/// certificate, handed back byte for byte, only to their account.
@Suite("Secret keys")
struct SecretKeyTests {
    typealias World = KeystoreWorld

    @Test("A protected secret key of a stored certificate is kept exactly; an unprotected or foreign one is refused")
    func secretKeys() async throws {
        let world = try await World.make()
        defer { world.close() }
        let gpg = try GnuPGHome()
        try await gpg.generate("mia@example.org", passphrase: "correct horse")
        try await gpg.generate("plain@example.org", passphrase: "")
        let fingerprint = try await gpg.fingerprint("mia@example.org")
        let protected = try await gpg.secretKey("mia@example.org", passphrase: "correct horse")
        let plain = try await gpg.secretKey("plain@example.org", passphrase: "")
        let miaPublic = try await gpg.publicKey("mia@example.org")
        let plainPublic = try await gpg.publicKey("plain@example.org")
        await gpg.remove()

        #expect(await refusal { _ = try await world.keystore.storeSecretKey(protected, for: world.mia, by: World.actor) } == .keyNotFound)
        _ = try await world.keystore.importCertificates(miaPublic, for: world.mia, by: World.actor)
        _ = try await world.keystore.importCertificates(plainPublic, for: world.mia, by: World.actor)
        #expect(try await world.keystore.storeSecretKey(protected, for: world.mia, by: World.actor) == fingerprint)
        // Handed back as the binary packets the client sent (armor removed), byte for byte.
        let stored = try await world.keystore.secretKey(fingerprint, of: world.mia)
        let dearmored = try await ChildProcess.run("/bin/sh", ["-c", "printf '%s' \"$0\" | gpg --dearmor | od -An -v -tx1 | tr -d ' \\n'", String(decoding: protected, as: UTF8.self)])
        #expect(stored.map { String(format: "%02x", $0) }.joined() == dearmored)
        #expect(await refusal { _ = try await world.keystore.secretKey(fingerprint, of: world.bob) } == .keyNotFound)

        #expect(await refusal { _ = try await world.keystore.storeSecretKey(plain, for: world.mia, by: World.actor) } == .unprotectedSecretKey)
        #expect(await refusal { _ = try await world.keystore.storeSecretKey(miaPublic, for: world.mia, by: World.actor) } == .invalidKey)
        #expect(await refusal { _ = try await world.keystore.storeSecretKey(Array("junk".utf8), for: world.mia, by: World.actor) } == .invalidKey)
        #expect(try await world.count("SELECT count(*) FROM secret_keys") == 1)

        // Deleting the key from the keystore takes its secret key with it.
        try await world.keystore.deleteKey(fingerprint, of: world.mia, by: World.actor)
        #expect(try await world.count("SELECT count(*) FROM secret_keys") == 0)
    }
}

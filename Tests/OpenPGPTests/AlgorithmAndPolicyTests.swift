import Core
import Foundation
import OpenPGP
import Testing

/// Every signing algorithm the real tools make verifies; the policy refuses what it says it refuses.
@Suite("OpenPGP algorithms and policy")
struct AlgorithmAndPolicyTests {
    @Test("Self-signatures verify for DSA, ECDSA (P-256, P-384, P-521, brainpoolP256r1), EdDSA and RSA", arguments: [
        "algo-dsa2048.pgp", "algo-nistp256.pgp", "algo-nistp384.pgp", "algo-nistp521.pgp", "algo-brainpoolP256r1.pgp",
        "ed25519-signing-subkey.pgp", "rsa-two-uids-certified.pgp", "sq-cv25519.pgp",
    ])
    func algorithms(_ name: String) async throws {
        let valid = try Fixtures.certificate(name).validated(at: Fixtures.now)
        #expect(!valid.userIDs.isEmpty, "\(valid.dropped)")
        #expect(valid.dropped.allSatisfy { $0.contains("third-party") }, "\(valid.dropped)")
        #expect(valid.status(at: Fixtures.now) == .valid)
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let theirs = try await gpg.colons(of: Fixtures.directory.appendingPathComponent(name).path).filter { $0.first == "fpr" }.map { $0[9] }
        #expect([valid.fingerprint.hex] + valid.subkeys.map(\.fingerprint.hex) == theirs)
    }

    @Test("An RSA key of 1024 bits is too short: nothing it signed is kept")
    func shortKey() throws {
        let valid = try Fixtures.certificate("rsa1024.pgp").validated(at: Fixtures.now)
        #expect(valid.userIDs.isEmpty)
        #expect(valid.dropped.contains { $0.contains("1024 bits is too short") })
    }

    @Test("SHA-1 self-signatures: accepted when made before 2023-02-01, refused when made later")
    func sha1() throws {
        let old = try Fixtures.certificate("sha1-2019.pgp").validated(at: Fixtures.now)
        #expect(old.userIDs.count == 1, "\(old.dropped)")
        let new = try Fixtures.certificate("sha1-now.pgp").validated(at: Fixtures.now)
        #expect(new.userIDs.isEmpty)
        #expect(new.dropped.contains { $0.contains("SHA-1 signature made after 2023-02-01") })
    }

    @Test("A certificate is not valid before its key was made")
    func notYetValid() throws {
        let certificate = try Fixtures.certificate("ed25519-signing-subkey.pgp")
        let before = certificate.primaryKey.creationTime - 3600
        #expect(certificate.validated(at: Fixtures.now).status(at: before) == .notYetValid)
        // Validated at that time, the self-signatures did not exist yet either.
        #expect(certificate.validated(at: before).userIDs.isEmpty)
    }

    @Test("A key revocation placed after the subkeys still revokes, and is written back straight after the primary key")
    func revocationAfterSubkeys() async throws {
        let valid = try Fixtures.certificate("revocation-after-subkeys.pgp").validated(at: Fixtures.now)
        guard case .revoked = valid.status(at: Fixtures.now) else {
            Issue.record("expected revoked, got \(valid.status(at: Fixtures.now))")
            return
        }
        let packets = valid.packets()
        #expect(packets[0].tag == .publicKey)
        #expect(packets[1].tag == .signature && packets[1].body[1] == 0x20)
        // gpg 2.2 reads our canonical order as revoked.
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let lines = try await gpg.importAndList(valid.serialized)
        #expect(lines.first { $0.first == "pub" }?[1] == "r")
    }
}

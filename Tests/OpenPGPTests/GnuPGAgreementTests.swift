import Core
import CoreTestSupport
import Foundation
import OpenPGP
import Testing

/// Our reading of certificates made by gpg and sq agrees with what gpg itself says about them.
@Suite("OpenPGP agrees with GnuPG")
struct GnuPGAgreementTests {
    @Test("Fingerprints of primary keys and subkeys match gpg --with-colons", arguments: [
        "rsa-two-uids-certified.pgp", "ed25519-signing-subkey.pgp", "expired.pgp", "revoked.pgp", "revoked-uid.pgp",
        "sq-cv25519.pgp", "sq-no-userid.pgp",
    ])
    func fingerprints(_ name: String) async throws {
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let lines = try await gpg.colons(of: Fixtures.directory.appendingPathComponent(name).path)
        let theirs = lines.filter { $0.first == "fpr" }.map { $0[9] }
        let certificate = try Fixtures.certificate(name)
        let ours = [certificate.fingerprint.hex] + certificate.subkeys.map { $0.key.fingerprint.hex }
        #expect(ours == theirs)
    }

    @Test("User IDs and their revocation match gpg", arguments: ["rsa-two-uids-certified.pgp", "revoked-uid.pgp", "ed25519-signing-subkey.pgp"])
    func userIDs(_ name: String) async throws {
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let lines = try await gpg.colons(of: Fixtures.directory.appendingPathComponent(name).path)
        // gpg lists User IDs in its own order: compare them sorted.
        let theirs = lines.filter { $0.first == "uid" }.map { "\($0[9]) revoked=\($0[1] == "r")" }.sorted()
        let valid = try Fixtures.certificate(name).validated(at: Fixtures.now)
        #expect(valid.userIDs.map { "\($0.text) revoked=\($0.isRevoked)" }.sorted() == theirs)
    }

    @Test("Validity: expired and revoked as gpg says", arguments: [("expired.pgp", "e"), ("revoked.pgp", "r"), ("ed25519-signing-subkey.pgp", "-")])
    func validity(_ name: String, _ gpgValidity: String) async throws {
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let pub = try #require(try await gpg.colons(of: Fixtures.directory.appendingPathComponent(name).path).first { $0.first == "pub" })
        #expect(pub[1] == gpgValidity)
        let status = try Fixtures.certificate(name).validated(at: Fixtures.now).status(at: Fixtures.now)
        switch gpgValidity {
        case "e":
            guard case .expired = status else { Issue.record("expected expired, got \(status)"); return }
        case "r":
            guard case .revoked(let reason, _, _) = status else { Issue.record("expected revoked, got \(status)"); return }
            #expect(reason == .unspecified)
        default:
            #expect(status == .valid)
        }
    }

    @Test("A WKD-minimised certificate imports into gpg with exactly the one User ID")
    func minimisedImportsIntoGnuPG() async throws {
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let valid = try Fixtures.certificate("rsa-two-uids-certified.pgp").validated(at: Fixtures.now)
        let minimised = try #require(valid.minimized(for: try EmailAddress("alice@example.org")))
        let lines = try await gpg.importAndList(minimised)
        #expect(lines.filter { $0.first == "uid" }.map { $0[9] } == ["Alice Example <alice@example.org>"])
        #expect(lines.filter { $0.first == "sub" }.count == 1)
        #expect(lines.first { $0.first == "fpr" }?[9] == valid.fingerprint.hex)
    }

    @Test("The WKD hash equals gpg-wks-client --print-wkd-hash")
    func wkdHash() async throws {
        let output = try await ChildProcess.run("/usr/lib/gnupg/gpg-wks-client", ["--print-wkd-hash", "Joe.Doe@Example.ORG"])
        let theirs = output.split(separator: " ").first.map(String.init)
        #expect(WKDHash.hash(localPart: "Joe.Doe") == "iy9q119eutrkn8s1mk4r39qejnbu3n5q")
        #expect(theirs == WKDHash.hash(localPart: "Joe.Doe"))
    }
}

@Suite("OpenPGP subkey revocations")
struct SubkeyRevocationTests {
    @Test("Subkeys revoked in gpg (one superseded, one compromised) are revoked here too, with their reasons")
    func revokedSubkeys() async throws {
        let valid = try Fixtures.certificate("revoked-subkeys.pgp").validated(at: Fixtures.now)
        #expect(valid.subkeys.count == 2)
        #expect(valid.subkeys.allSatisfy { $0.isRevoked })
        let reasons = valid.subkeys.compactMap { $0.revocations.first?.revocationReason?.code }.sorted()
        #expect(reasons == [1, 2])
        #expect(valid.status(at: Fixtures.now) == .valid)
        let gpg = try GnuPG()
        defer { gpg.remove() }
        let subs = try await gpg.colons(of: Fixtures.directory.appendingPathComponent("revoked-subkeys.pgp").path).filter { $0.first == "sub" }
        #expect(subs.map { $0[1] } == ["r", "r"])
    }
}

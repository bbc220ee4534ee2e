import Core
import Foundation
import OpenPGP
import Testing

/// Certificates on their own: v6, validity, canonicalisation, minimisation.
@Suite("OpenPGP certificates")
struct CertificateTests {
    @Test("RFC 9580 Appendix A.3: the v6 sample certificate's fingerprint and bindings")
    func rfcSample() throws {
        let certificate = try Fixtures.certificate("rfc9580-a3-v6.asc")
        #expect(certificate.primaryKey.version == 6)
        #expect(certificate.fingerprint.hex == "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9")
        // The sample was made on 2022-11-30; validate it then and now.
        let valid = certificate.validated(at: Fixtures.now)
        #expect(valid.dropped.isEmpty, "\(valid.dropped)")
        #expect(valid.directKeySignatures.count == 1)
        #expect(valid.subkeys.map(\.fingerprint.hex) == ["12C83F1E706F6308FE151A417743A1F033790E93E9978488D1DB378DA9930885"])
        #expect(valid.status(at: Fixtures.now) == .valid)
    }

    @Test("v6 certificates from pysequoia: fingerprint as Sequoia wrote it, both User IDs, minimisation")
    func v6() throws {
        let text = String(decoding: try Fixtures.bytes("v6-two-uids.asc"), as: UTF8.self)
        let comment = try #require(text.split(separator: "\n").first { $0.hasPrefix("Comment: ") && $0.count > 60 })
        let sequoiaFingerprint = comment.dropFirst("Comment: ".count).filter { $0 != " " }
        let valid = try Fixtures.certificate("v6-two-uids.asc").validated(at: Fixtures.now)
        #expect(valid.fingerprint.hex == String(sequoiaFingerprint))
        #expect(valid.primaryKey.version == 6)
        #expect(valid.userIDs.map(\.text).sorted() == ["Vera Elsewhere <vera@elsewhere.example>", "Vera Six <vera@example.org>"])
        #expect(valid.subkeys.count == 2)
        #expect(valid.dropped.isEmpty, "\(valid.dropped)")
        let minimised = try #require(valid.minimized(for: try EmailAddress("VERA@example.org")))
        let reread = try #require(try Certificate.parse(minimised).first).validated(at: Fixtures.now)
        #expect(reread.userIDs.map(\.text) == ["Vera Six <vera@example.org>"])
        #expect(reread.subkeys.count == 2)
        #expect(reread.fingerprint == valid.fingerprint)
    }

    @Test("A signing subkey whose binding was corrupted is dropped, with the reason")
    func badBinding() throws {
        let good = try Fixtures.certificate("ed25519-signing-subkey.pgp").validated(at: Fixtures.now)
        let bad = try Fixtures.certificate("subkey-bad-binding.pgp").validated(at: Fixtures.now)
        #expect(good.subkeys.count == 1)
        #expect(good.subkeys.first?.keyFlags == 0x02)
        #expect(bad.subkeys.isEmpty)
        #expect(bad.dropped.contains { $0.contains("signature does not verify") || $0.contains("digest does not match") })
    }

    @Test("Third-party certifications are not kept")
    func thirdParty() throws {
        let certificate = try Fixtures.certificate("rsa-two-uids-certified.pgp")
        let alice = try #require(certificate.userIDs.first { $0.text.contains("alice@example.org") })
        #expect(alice.signatures.count == 2)
        let valid = certificate.validated(at: Fixtures.now)
        #expect(valid.userIDs.first { $0.text.contains("alice@example.org") }?.certifications.count == 1)
        #expect(valid.dropped.contains { $0.contains("third-party") })
    }

    @Test("Minimisation keeps only the asked address's User ID, matched like an address (case of the domain ignored)")
    func minimisation() throws {
        let valid = try Fixtures.certificate("rsa-two-uids-certified.pgp").validated(at: Fixtures.now)
        let work = try #require(valid.minimized(for: try EmailAddress("alice@WORK.example")))
        let reread = try #require(try Certificate.parse(work).first)
        #expect(reread.userIDs.map(\.text) == ["Alice at Work <alice@work.example>"])
        #expect(reread.userIDs[0].signatures.count == 1)
        #expect(reread.subkeys.count == 1)
        #expect(valid.minimized(for: try EmailAddress("nobody@example.org")) == nil)
    }

    @Test("A revoked User ID is served only together with its revocation")
    func revokedUserID() throws {
        let valid = try Fixtures.certificate("revoked-uid.pgp").validated(at: Fixtures.now)
        let former = try #require(valid.minimized(for: try EmailAddress("dave@old.example")))
        let reread = try #require(try Certificate.parse(former).first).validated(at: Fixtures.now)
        #expect(reread.userIDs.map(\.text) == ["Dave Former <dave@old.example>"])
        #expect(reread.userIDs.first?.isRevoked == true)
        #expect(reread.currentUserIDs.isEmpty)
        let currentBytes = try #require(valid.minimized(for: try EmailAddress("dave@example.org")))
        let current = try #require(try Certificate.parse(currentBytes).first)
        #expect(current.userIDs.map(\.text) == ["Dave Current <dave@example.org>"])
    }

    @Test("A User ID with more than one address in angle brackets is never matched to an address")
    func ambiguousUserID() {
        #expect(Certificate.UserID(value: Array("<ceo@x.example> <mallory@x.example>".utf8), signatures: []).email == nil)
        #expect(Certificate.UserID(value: Array("Mallory <mallory@x.example> extra".utf8), signatures: []).email == nil)
        #expect(Certificate.UserID(value: Array("Joe <joe@x.example>".utf8), signatures: []).email?.canonical == "joe@x.example")
        #expect(Certificate.UserID(value: Array("joe@x.example".utf8), signatures: []).email?.canonical == "joe@x.example")
    }

    @Test("A keyring holds several certificates")
    func keyring() throws {
        let certificates = try Certificate.parse(Fixtures.bytes("keyring.pgp"))
        #expect(certificates.count == 4)
        #expect(Set(certificates.map(\.fingerprint)).count == 4)
    }

    @Test("Armored and binary forms are the same certificate")
    func armoredEqualsBinary() throws {
        let armored = try Fixtures.certificate("ed25519-signing-subkey.asc")
        let binary = try Fixtures.certificate("ed25519-signing-subkey.pgp")
        #expect(armored.fingerprint == binary.fingerprint)
        #expect(armored.validated(at: Fixtures.now).serialized == binary.validated(at: Fixtures.now).serialized)
    }

    @Test("The WKD hash: the draft's example, ASCII-only lower-casing, and the all-letters variant")
    func wkdHash() {
        #expect(WKDHash.hash(localPart: "Joe.Doe") == "iy9q119eutrkn8s1mk4r39qejnbu3n5q")
        #expect(WKDHash.hash(localPart: "joe.doe") == "iy9q119eutrkn8s1mk4r39qejnbu3n5q")
        #expect(WKDHash.hash(localPart: "Ärger") != WKDHash.hashLowercasingAll(localPart: "Ärger"))
        #expect(WKDHash.hashLowercasingAll(localPart: "Ärger") == WKDHash.hash(localPart: "ärger"))
        #expect(WKDHash.localPartParameter("Joe.Doe+x ä") == "Joe.Doe%2Bx%20%C3%A4")
    }
}

@Suite("OpenPGP Ed448")
struct Ed448Tests {
    @Test("A v6 Ed448 certificate signed by another Ed448 implementation verifies")
    func ed448() throws {
        let expected = String(decoding: try Fixtures.bytes("ed448-v6.fingerprint"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let valid = try Fixtures.certificate("ed448-v6.pgp").validated(at: Fixtures.now)
        #expect(valid.fingerprint.hex == expected)
        #expect(valid.primaryKey.algorithm == .ed448)
        #expect(valid.directKeySignatures.count == 1)
        #expect(valid.userIDs.map(\.text) == ["Ed448 Test <ed448@example.org>"])
    }

    @Test("A self-signature with an unknown critical subpacket, or made in the future, does not count")
    func criticalAndFuture() throws {
        let valid = try Fixtures.certificate("ed448-v6.pgp").validated(at: Fixtures.now)
        #expect(valid.dropped.contains { $0.contains("Critical <critical@example.org>") && $0.contains("unknown critical subpacket 100") })
        #expect(valid.dropped.contains { $0.contains("Future <future@example.org>") && $0.contains("made in the future") })
        #expect(!valid.userIDs.contains { $0.text.hasPrefix("Critical") || $0.text.hasPrefix("Future") })
    }
}

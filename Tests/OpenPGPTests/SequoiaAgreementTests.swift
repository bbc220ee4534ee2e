import Core
import CoreTestSupport
import Foundation
import OpenPGP
import Testing

/// Our reading agrees with Sequoia's `sq inspect`, and what we minimise reads back in sq.
@Suite("OpenPGP agrees with Sequoia")
struct SequoiaAgreementTests {
    /// `sq inspect` of a file: its fingerprints (primary first) and User IDs.
    func inspect(_ path: String) async throws -> (fingerprints: [String], userIDs: [String], expiration: [String]) {
        let output = try await ChildProcess.run("/usr/bin/sq", ["inspect", path])
        var fingerprints: [String] = []
        var userIDs: [String] = []
        var expiration: [String] = []
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("Fingerprint: ") || line.hasPrefix("Subkey: ") {
                fingerprints.append(String(line.split(separator: " ").last!))
            } else if line.hasPrefix("UserID: ") {
                userIDs.append(String(line.dropFirst("UserID: ".count)))
            } else if line.hasPrefix("Expiration time: ") {
                expiration.append(line)
            }
        }
        return (fingerprints, userIDs, expiration)
    }

    @Test("Fingerprints and User IDs match sq inspect", arguments: ["sq-cv25519.pgp", "sq-no-userid.pgp", "rsa-two-uids-certified.pgp", "ed25519-signing-subkey.pgp"])
    func agreement(_ name: String) async throws {
        let theirs = try await inspect(Fixtures.directory.appendingPathComponent(name).path)
        let certificate = try Fixtures.certificate(name)
        let valid = certificate.validated(at: Fixtures.now)
        #expect([valid.fingerprint.hex] + valid.subkeys.map(\.fingerprint.hex) == theirs.fingerprints)
        #expect(valid.userIDs.map(\.text).sorted() == theirs.userIDs.sorted())
    }

    @Test("A certificate without User IDs is understood: fingerprint, subkeys and expiry, nothing to publish")
    func noUserID() throws {
        let valid = try Fixtures.certificate("sq-no-userid.pgp").validated(at: Fixtures.now)
        #expect(valid.userIDs.isEmpty)
        #expect(valid.directKeySignatures.count == 1)
        #expect(valid.subkeys.count == 3)
        #expect(valid.expirationTime != nil)
        #expect(valid.status(at: Fixtures.now) == .valid)
        #expect(valid.minimized(for: try EmailAddress("bob@example.org")) == nil)
    }

    @Test("A minimised certificate reads back in sq with one User ID and every subkey")
    func minimisedReadsInSequoia() async throws {
        let valid = try Fixtures.certificate("sq-cv25519.pgp").validated(at: Fixtures.now)
        let minimised = try #require(valid.minimized(for: try EmailAddress("bob@example.org")))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("palisade-min-\(UUID().uuidString.prefix(8)).pgp")
        try Data(minimised).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let theirs = try await inspect(file.path)
        #expect(theirs.userIDs == ["Bob Sequoia <bob@example.org>"])
        #expect(theirs.fingerprints == [valid.fingerprint.hex] + valid.subkeys.map(\.fingerprint.hex))
    }
}

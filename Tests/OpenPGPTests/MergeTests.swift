import Core
import Foundation
import OpenPGP
import Testing

/// Merging copies of one certificate (Fixtures/merge-*.pgp, gpg's exports of one key at different
/// moments), compared with what gpg's own keyring makes of importing the same files.
@Suite("Certificate merge")
struct MergeTests {
    /// The packets that hold, as a multiset (the order of User IDs follows arrival; it carries no meaning).
    func canonical(_ certificate: Certificate) -> [[UInt8]] {
        certificate.validated(at: Fixtures.now).packets().map(\.serialized).sorted { $0.lexicographicallyPrecedes($1) }
    }

    @Test("A later copy adds its User ID and subkey; the order of merging does not matter")
    func addsWhatIsNew() throws {
        let first = try Fixtures.certificate("merge-1.pgp")
        let second = try Fixtures.certificate("merge-2.pgp")
        #expect(canonical(try first.merged(with: second)) == canonical(second))
        #expect(canonical(try second.merged(with: first)) == canonical(second))
        let merged = try first.merged(with: second).validated(at: Fixtures.now)
        #expect(merged.userIDs.compactMap(\.email?.canonical).sorted() == ["mia@example.org", "mia@work.example"])
        #expect(merged.subkeys.count == 1)
    }

    @Test("A partial copy (a key server's, an older export) takes nothing away")
    func losesNothing() throws {
        let full = try Fixtures.certificate("merge-2.pgp")
        let partial = try Fixtures.certificate("merge-2-work-only.pgp")
        #expect(partial.userIDs.count == 1)
        #expect(canonical(try full.merged(with: partial)) == canonical(full))
        #expect(canonical(try partial.merged(with: try Fixtures.certificate("merge-1.pgp"))) == canonical(full))
    }

    @Test("A revocation that arrives later is taken, as gpg's keyring takes it")
    func takesRevocations() async throws {
        let merged = try Fixtures.certificate("merge-2.pgp").merged(with: try Fixtures.certificate("merge-3-work-revoked.pgp"))
        let work = merged.validated(at: Fixtures.now).userIDs.first { $0.email?.canonical == "mia@work.example" }
        #expect(work?.isRevoked == true)
        let gpg = try GnuPG()
        defer { gpg.remove() }
        _ = try await gpg.importAndList(try Fixtures.bytes("merge-2.pgp"))
        let listed = try await gpg.importAndList(try Fixtures.bytes("merge-3-work-revoked.pgp"))
        let gpgWork = listed.first { $0.first == "uid" && $0.count > 9 && $0[9].contains("mia@work.example") }
        #expect(gpgWork?[1] == "r", "gpg sees the User ID revoked too")
    }

    @Test("Merging a copy with itself changes nothing: every signature is kept once")
    func idempotent() throws {
        let second = try Fixtures.certificate("merge-2.pgp")
        let twice = try second.merged(with: second)
        #expect(twice.userIDs.map(\.signatures.count) == second.userIDs.map(\.signatures.count))
        #expect(twice.subkeys.map(\.signatures.count) == second.subkeys.map(\.signatures.count))
        #expect(canonical(twice) == canonical(second))
    }

    @Test("Different keys are not merged")
    func differentKeys() throws {
        #expect(throws: OpenPGPError.self) {
            try Fixtures.certificate("merge-1.pgp").merged(with: try Fixtures.certificate("expired.pgp"))
        }
    }
}

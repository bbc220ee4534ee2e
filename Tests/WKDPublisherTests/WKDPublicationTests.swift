import Aliases
import Core
import CoreTestSupport
import Keystore
import Foundation
import OpenPGP
import Testing
import WKDPublishing

/// What is published, and only that: the rules of `WKDPublication` against a real database.
@Suite("WKD publication rules")
struct WKDPublicationTests {
    func entries(_ world: WKDWorld) async throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for row in try await world.db.pool.query("SELECT address, body FROM wkd_entries") {
            found[try row.decode("address")] = try row.decode("body")
        }
        return found
    }

    @Test("A key with four User IDs: each address serves only its own, as written; the custom domain only with WKD as a service")
    func oneUserIDEach() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        var served = try await entries(world)
        #expect(Set(served.keys) == ["ada@example.org", "ada.lovelace@example.org", "analyst@example.org"])
        #expect(try WKDWorld.userIDs(served["ada@example.org"]!) == ["Test <ada@example.org>"])
        #expect(try WKDWorld.userIDs(served["ada.lovelace@example.org"]!) == ["Other <Ada.Lovelace@example.org>"])
        #expect(try WKDWorld.userIDs(served["analyst@example.org"]!) == ["Other <analyst@example.org>"])
        // Under the draft's hash of the local part as written (ASCII letters lower-cased).
        #expect(try await world.db.count("SELECT count(*) FROM wkd_entries WHERE address = 'ada.lovelace@example.org' AND hash = '\(try WKDWorld.hash("Ada.Lovelace@example.org"))'") == 1)

        // WKD as a service for the customer's domain: the refresh jobs come with the change.
        let service = WKDServiceDomains(pool: world.db.pool(as: "palisade_admin"), logger: world.db.logger)
        try await world.db.pool.query("DELETE FROM jobs")
        #expect(try await service.enable("ada.example", by: "test"))
        #expect(try await world.db.count("SELECT count(*) FROM jobs WHERE kind = 'wkd.refresh' AND payload->>'address' = 'ada@ada.example'") == 1)
        try await world.refreshAll()
        served = try await entries(world)
        #expect(try WKDWorld.userIDs(try #require(served["ada@ada.example"])) == ["Other <ada@ada.example>"])
        #expect(try await service.disable("ada.example", by: "test"))
        try await world.refreshAll()
        #expect(try await entries(world)["ada@ada.example"] == nil)
        await #expect(throws: WKDServiceDomains.Refusal.self) { try await service.enable("example.org", by: "test") }
        await #expect(throws: WKDServiceDomains.Refusal.self) { try await service.enable("nowhere.example", by: "test") }
        #expect(try await world.db.count("SELECT count(*) FROM audit_log WHERE action LIKE 'wkd.service.%' AND details->>'outcome' <> 'ok'") == 2)
    }

    @Test("A disabled alias, an unbound address and a closed account publish nothing")
    func notPublished() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await world.refreshAll()
        _ = try await world.aliases.setEnabled(false, "analyst@example.org", of: world.account, by: WKDWorld.op)
        try await world.keystore.unbind("Ada.Lovelace@example.org", of: world.account, by: "test")
        try await world.refreshAll()
        #expect(Set(try await entries(world).keys) == ["ada@example.org"])
        _ = try await world.aliases.closeAccount(world.account, by: WKDWorld.op)
        try await world.refreshAll()
        #expect(try await entries(world).isEmpty)
    }

    @Test("Only the bound User ID: a second one with the same address, from another account's copy, is not published")
    func onlyTheBoundUserID() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        try await GnuPGHome.with { home in
            let address = "grace@example.org"
            let grace = try await world.aliases.createAccount(primary: address, by: WKDWorld.op).id
            let other = try await world.aliases.createAccount(primary: "other@example.org", by: WKDWorld.op).id
            let fingerprint = try await home.generate(address, passphrase: "", otherAddresses: [address])
            func export(_ filter: [String]) async throws -> [UInt8] {
                try Armor.decode(Array(try await home.gpg(filter + ["--armor", "--export", fingerprint]).utf8))[0].data
            }
            // Grace's copy has only "Test <…>"; another account holds the full key with "Other <…>" too.
            _ = try await world.keystore.importCertificates(try await export(["--export-filter", "keep-uid=uid =~ Test"]), for: grace, by: "test")
            _ = try await world.keystore.importCertificates(try await export([]), for: other, by: "test")
            try await world.keystore.bind(address, to: fingerprint, of: grace, by: "test")
            try await world.publication.refresh(address)
            let body: [UInt8] = try #require(try await world.db.pool.query("SELECT body FROM wkd_entries WHERE address = \(address)").first).decode("body")
            #expect(try WKDWorld.userIDs(body) == ["Test <\(address)>"])
        }
    }

    @Test("A non-ASCII local part is served under the draft's hash and the one clients lowering Unicode compute")
    func unicodeLocalPart() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let utf8 = AliasDirectory(pool: world.db.pool, rules: AddressRules(allowUTF8LocalParts: true), logger: world.db.logger)
        let address = "Ärger@example.org"
        let account = try await utf8.createAccount(primary: address, by: WKDWorld.op).id
        try await GnuPGHome.with { home in
            let fingerprint = try await home.generate(address, passphrase: "")
            let key = try Armor.decode(Array(try await home.gpg(["--armor", "--export", fingerprint]).utf8))[0].data
            _ = try await world.keystore.importCertificates(key, for: account, by: "test")
            try await world.keystore.bind(address, to: fingerprint, of: account, by: "test")
            #expect(try await world.publication.refresh(try EmailAddress(address).canonical))
            let draft = WKDHash.hash(localPart: "Ärger")
            let unicode = WKDHash.hashLowercasingAll(localPart: "Ärger")
            #expect(draft != unicode)
            let content = WKDContent()
            try await content.reloadAll(from: world.wkdPool)
            for hash in [draft, unicode] {
                let entry = try #require(content.entry(domain: "example.org", hash: hash))
                #expect(try WKDWorld.userIDs(entry.body) == ["Test <\(address)>"])
            }
        }
    }

    @Test("A revoked key stays published, with its revocation, so that clients learn of it")
    func revokedKey() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        let address = "revoked@example.org"
        let account = try await world.aliases.createAccount(primary: address, by: WKDWorld.op).id
        try await GnuPGHome.with { home in
            let fingerprint = try await home.generate(address, passphrase: "")
            func export() async throws -> [UInt8] { try Armor.decode(Array(try await home.gpg(["--armor", "--export", fingerprint]).utf8))[0].data }
            _ = try await world.keystore.importCertificates(try await export(), for: account, by: "test")
            try await world.keystore.bind(address, to: fingerprint, of: account, by: "test")
            let revocation = home.home.appendingPathComponent("openpgp-revocs.d/\(fingerprint).rev")
            let text = try String(contentsOf: revocation, encoding: .utf8).replacingOccurrences(of: ":-----BEGIN", with: "-----BEGIN")
            let file = home.home.appendingPathComponent("revocation.asc")
            try text.write(to: file, atomically: true, encoding: .utf8)
            _ = try await home.gpg(["--import", file.path])
            #expect(try await world.keystore.importCertificates(try await export(), for: account, by: "test").map(\.outcome) == [.merged])
            try await world.publication.refresh(address)
            let body: [UInt8] = try #require(try await world.db.pool.query("SELECT body FROM wkd_entries WHERE address = \(address)").first).decode("body")
            let served = try #require(try Certificate.parse(body).first).validated(at: UInt32(Date().timeIntervalSince1970))
            guard case .revoked = served.status(at: UInt32(Date().timeIntervalSince1970)) else {
                Issue.record("the served key is not revoked: \(served.status(at: UInt32(Date().timeIntervalSince1970)))")
                return
            }
        }
    }

    @Test("An unchanged entry is not rewritten; reconciliation repairs what no job did")
    func unchangedAndReconciled() async throws {
        let world = try await WKDWorld.make()
        defer { world.close() }
        #expect(try await world.publication.refresh("ada@example.org"))
        #expect(try await world.publication.refresh("ada@example.org") == false)
        #expect(try await world.publication.reconcile() == 2)
        #expect(try await world.publication.reconcile() == 0)
    }
}

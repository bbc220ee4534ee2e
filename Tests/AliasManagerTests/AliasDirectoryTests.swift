import Aliases
import Core
import CoreTestSupport
import Foundation
import Testing

/// The alias rules as the service applies them, against a real PostgreSQL, acting as the
/// `palisade_aliases` role.
@Suite("Alias directory")
struct AliasDirectoryTests {
    @Test("After the cutoff a platform alias is not deleted: alias_deletion_forbidden, audited, nothing changed")
    func platformDeletionRefused() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        _ = try await world.directory.createAlias("shop@mail.example", for: world.alice, by: AliasWorld.api)
        let before = try await world.snapshot()
        do {
            try await world.directory.deleteAlias("Shop@Mail.Example", of: world.alice, by: AliasWorld.api)
            Issue.record("a platform alias was deleted after the cutoff")
        } catch let error as AliasError {
            #expect(error.code == .aliasDeletionForbidden)
            #expect(error.message.contains("2022-01-01T00:00:00Z"))
            #expect(error.message.contains("disable it instead"))
        }
        #expect(try await world.snapshot() == before)
        #expect(try await world.audit("shop@mail.example") == ["alias.create ok", "alias.delete refused alias_deletion_forbidden"])
    }

    @Test("The service's clock: before the cutoff it allows deletion, past it refuses, and the database judges again")
    func settableClock() async throws {
        // The database's cutoff in the future, so only the service's clock decides.
        let world = try await AliasWorld.make(cutoff: "2099-01-01T00:00:00Z", clock: "2098-06-01T00:00:00Z")
        defer { world.close() }
        for name in ["one", "two"] {
            _ = try await world.directory.createAlias("\(name)@mail.example", for: world.alice, by: AliasWorld.api)
        }
        try await world.directory.deleteAlias("one@mail.example", of: world.alice, by: AliasWorld.api)
        #expect(try await !world.exists("one@mail.example"))
        #expect(try await world.refreshJobs("one@mail.example") == 1)

        world.clock.set("2099-01-01T00:00:00Z")
        #expect(await refusal { try await world.directory.deleteAlias("two@mail.example", of: world.alice, by: AliasWorld.api) } == .aliasDeletionForbidden)
        #expect(try await world.exists("two@mail.example"))
        let listed = try await world.directory.addresses(of: world.alice).first { $0.address == "two@mail.example" }
        #expect(listed?.deletable == false)
    }

    @Test("A service clock wrongly before the cutoff still meets the database's rule")
    func databaseRuleWins() async throws {
        let world = try await AliasWorld.make(clock: "2021-06-01T00:00:00Z")
        defer { world.close() }
        _ = try await world.directory.createAlias("old@mail.example", for: world.alice, by: AliasWorld.api)
        #expect(try await world.directory.addresses(of: world.alice).first { $0.address == "old@mail.example" }?.deletable == true)
        #expect(await refusal { try await world.directory.deleteAlias("old@mail.example", of: world.alice, by: AliasWorld.api) } == .aliasDeletionForbidden)
        #expect(try await world.exists("old@mail.example"))
    }

    @Test("Custom-domain aliases are deleted at any time; primary addresses never; the address stays reserved")
    func customAndPrimary() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        _ = try await world.directory.addCustomDomain("alice.example", for: world.alice, by: AliasWorld.api)
        _ = try await world.directory.createAlias("me@alice.example", for: world.alice, by: AliasWorld.api)
        try await world.directory.deleteAlias("me@alice.example", of: world.alice, by: AliasWorld.api)
        #expect(try await !world.exists("me@alice.example"))
        #expect(try await world.refreshJobs("me@alice.example") == 1)
        #expect(await refusal { try await world.directory.deleteAlias("alice@mail.example", of: world.alice, by: AliasWorld.api) } == .primaryAddressProtected)
        #expect(await refusal { _ = try await world.directory.setEnabled(false, "alice@mail.example", of: world.alice, by: AliasWorld.api) } == .primaryAddressProtected)
        #expect(try await world.exists("alice@mail.example"))
        // Alice may take her deleted address back; nobody else can, even on her domain with her consent.
        _ = try await world.directory.createAlias("me@alice.example", for: world.alice, by: AliasWorld.api)
        try await world.directory.deleteAlias("me@alice.example", of: world.alice, by: AliasWorld.api)
        #expect(await refusal { _ = try await world.directory.createAlias("me@alice.example", for: world.bob, by: AliasWorld.api) } == .domainNotAllowed)
    }

    @Test("Disable and enable: Postfix stops and resumes delivering, and the alias stays the account's")
    func disableEnable() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        _ = try await world.directory.createAlias("newsletter@mail.example", for: world.alice, by: AliasWorld.api)
        func routed() async throws -> Bool {
            try await !world.db.pool.query("SELECT 1 FROM postfix_virtual_aliases WHERE address = 'newsletter@mail.example'").isEmpty
        }
        #expect(try await routed())
        let disabled = try await world.directory.setEnabled(false, "newsletter@mail.example", of: world.alice, by: AliasWorld.api)
        #expect(!disabled.enabled && disabled.disabledAt != nil)
        #expect(try await !routed())
        #expect(await refusal { _ = try await world.directory.createAlias("newsletter@mail.example", for: world.bob, by: AliasWorld.api) } == .addressTaken)
        #expect(await refusal { _ = try await world.directory.setEnabled(true, "newsletter@mail.example", of: world.bob, by: AliasWorld.api) } == .addressNotFound)
        let enabled = try await world.directory.setEnabled(true, "newsletter@mail.example", of: world.alice, by: AliasWorld.api)
        #expect(enabled.enabled && enabled.disabledAt == nil)
        #expect(try await routed())
        #expect(try await world.audit("newsletter@mail.example") == [
            "alias.create ok", "alias.disable ok", "alias.create refused address_taken", "alias.enable refused address_not_found", "alias.enable ok",
        ])
    }

    @Test("A closed account's addresses stop working, stay reserved, and its account refuses changes")
    func closedAccount() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        _ = try await world.directory.createAlias("gone@mail.example", for: world.alice, by: AliasWorld.api)
        let closed = try await world.directory.closeAccount(world.alice, by: AliasWorld.api)
        #expect(closed.state == "closed" && closed.closedAt != nil)
        #expect(try await world.refreshJobs("alice@mail.example") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM postfix_virtual_aliases WHERE address LIKE '%' AND address IN ('alice@mail.example', 'gone@mail.example')") == 0)
        for address in ["alice@mail.example", "gone@mail.example"] {
            #expect(await refusal { _ = try await world.directory.createAlias(address, for: world.bob, by: AliasWorld.api) } == .addressTaken)
            #expect(await refusal { _ = try await world.directory.createAccount(primary: address, by: AliasWorld.api) } == .addressTaken)
        }
        #expect(await refusal { _ = try await world.directory.createAlias("new@mail.example", for: world.alice, by: AliasWorld.api) } == .accountClosed)
        #expect(await refusal { _ = try await world.directory.setEnabled(false, "gone@mail.example", of: world.alice, by: AliasWorld.api) } == .accountClosed)
        #expect(await refusal { _ = try await world.directory.closeAccount(world.alice, by: AliasWorld.api) } == .accountClosed)
        #expect(try await world.directory.addresses(of: world.alice).allSatisfy { !$0.deletable })
    }

    @Test("Invalid, reserved, over-long and non-ASCII addresses, foreign domains and the limit are refused with nothing changed", arguments: [
        ("a b@mail.example", AliasError.Code.invalidAddress),
        (String(repeating: "x", count: 65) + "@mail.example", .invalidAddress),
        ("jürgen@mail.example", .invalidAddress),
        ("postmaster@mail.example", .reservedAddress),
        ("Abuse+Reports@mail.example", .reservedAddress),
        ("x@unknown.example", .domainNotAllowed),
        ("alice@mail.example", .addressTaken),
        ("bob@mail.example", .addressExists),
    ])
    func refusals(address: String, code: AliasError.Code) async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        let before = try await world.snapshot()
        #expect(await refusal { _ = try await world.directory.createAlias(address, for: world.bob, by: AliasWorld.api) } == code)
        #expect(try await world.snapshot() == before)
        let refused = try await world.db.count("SELECT count(*) FROM audit_log WHERE action = 'alias.create' AND details->>'outcome' = 'refused' AND details->>'code' = '\(code.rawValue)'")
        #expect(refused == 1)
    }

    @Test("Operators may create reserved role names; the per-account limit holds")
    func operatorAndLimit() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        _ = try await world.directory.createAlias("postmaster@mail.example", for: world.bob, by: AliasWorld.operatorActor)
        for index in 2...5 {
            _ = try await world.directory.createAlias("bob\(index)@mail.example", for: world.bob, by: AliasWorld.api)
        }
        #expect(await refusal { _ = try await world.directory.createAlias("bob6@mail.example", for: world.bob, by: AliasWorld.api) } == .aliasLimitReached)
        #expect(try await !world.exists("bob6@mail.example"))
    }

    @Test("Two concurrent creations of one address: exactly one wins, the other gets a clear error")
    func concurrentCreation() async throws {
        let world = try await AliasWorld.make(rules: AddressRules(maxAliasesPerAccount: 100))
        defer { world.close() }
        for round in 0..<10 {
            let address = "race\(round)@mail.example"
            let directory = world.directory
            let first = Task { try await directory.createAlias(address, for: world.alice, by: AliasWorld.api) }
            let second = Task { try await directory.createAlias(address, for: world.bob, by: AliasWorld.api) }
            let results = [await first.result, await second.result]
            let winners = results.filter { if case .success = $0 { true } else { false } }
            #expect(winners.count == 1, "round \(round)")
            for case .failure(let error) in results {
                #expect((error as? AliasError)?.code == .addressTaken, "round \(round): \(error)")
            }
            #expect(try await world.db.count("SELECT count(*) FROM addresses WHERE address = '\(address)'") == 1)
            #expect(try await world.refreshJobs(address) == 1)
        }
        // The same account asking twice at once: one creation, one address_exists.
        let directory = world.directory
        let first = Task { try await directory.createAlias("twice@mail.example", for: world.alice, by: AliasWorld.api) }
        let second = Task { try await directory.createAlias("twice@mail.example", for: world.alice, by: AliasWorld.api) }
        let codes = [await refusal { _ = try await first.value }, await refusal { _ = try await second.value }]
        #expect(codes.filter { $0 == nil }.count == 1 && codes.contains(.addressExists))
    }

    @Test("Custom domains: one owner, never nested with a platform domain, unique")
    func customDomains() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        let domain = try await world.directory.addCustomDomain("Bücher.Example", for: world.alice, by: AliasWorld.api)
        #expect(domain.name == "xn--bcher-kva.example" && domain.kind == "custom" && domain.accountID == world.alice)
        #expect(await refusal { _ = try await world.directory.addCustomDomain("xn--bcher-kva.example", for: world.bob, by: AliasWorld.api) } == .domainExists)
        #expect(await refusal { _ = try await world.directory.addCustomDomain("shop.mail.example", for: world.bob, by: AliasWorld.api) } == .domainNotAllowed)
        #expect(await refusal { _ = try await world.directory.addCustomDomain("example", for: world.bob, by: AliasWorld.api) } == .invalidDomain)
        #expect(await refusal { _ = try await world.directory.addCustomDomain("bad_domain..example", for: world.bob, by: AliasWorld.api) } == .invalidDomain)
        #expect(await refusal { _ = try await world.directory.createAlias("x@bücher.example", for: world.bob, by: AliasWorld.api) } == .domainNotAllowed)
        // Reserved names are the custom domain owner's to use (RFC 2142 asks for postmaster@ every mail domain).
        _ = try await world.directory.createAlias("postmaster@bücher.example", for: world.alice, by: AliasWorld.api)
        let visible = try await world.directory.domains(for: world.bob).map(\.name)
        #expect(visible == ["mail.example", "other.example"])
        // Another account's custom domain is not nested into; the owner's own may nest.
        #expect(await refusal { _ = try await world.directory.addCustomDomain("shop.xn--bcher-kva.example", for: world.bob, by: AliasWorld.api) } == .domainNotAllowed)
        _ = try await world.directory.addCustomDomain("shop.xn--bcher-kva.example", for: world.alice, by: AliasWorld.api)
        #expect(await refusal { _ = try await world.directory.domains(for: 999_999) } == .accountNotFound)
    }

    @Test("An address and its +sub-addresses belong to one account (Postfix delivers alice+x to alice)")
    func subAddresses() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        #expect(await refusal { _ = try await world.directory.createAlias("alice+x@mail.example", for: world.bob, by: AliasWorld.api) } == .addressTaken)
        _ = try await world.directory.createAlias("alice+shop@mail.example", for: world.alice, by: AliasWorld.api)
        _ = try await world.directory.createAlias("carol+news@mail.example", for: world.bob, by: AliasWorld.api)
        #expect(await refusal { _ = try await world.directory.createAlias("carol@mail.example", for: world.alice, by: AliasWorld.api) } == .addressTaken)
        #expect(await refusal { _ = try await world.directory.createAlias("carol+other@mail.example", for: world.alice, by: AliasWorld.api) } == .addressTaken)
        _ = try await world.directory.createAlias("carol@mail.example", for: world.bob, by: AliasWorld.api)
        // The family is per domain.
        _ = try await world.directory.createAlias("alice+x@other.example", for: world.bob, by: AliasWorld.api)
    }

    @Test("Input PostgreSQL cannot hold (NUL) is refused and still audited")
    func nulInput() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        #expect(await refusal { _ = try await world.directory.createAlias("a\u{0}b@mail.example", for: world.alice, by: AliasWorld.api) } == .invalidAddress)
        #expect(await refusal { try await world.directory.deleteAlias("a\u{0}@mail.example", of: world.alice, by: AliasWorld.api) } == .invalidAddress)
        #expect(try await world.db.count("SELECT count(*) FROM audit_log WHERE details->>'outcome' = 'refused' AND subject LIKE 'a%@mail.example'") == 2)
    }

    @Test("Every change enqueues wkd.refresh in its own transaction; a refusal enqueues nothing")
    func refreshJobs() async throws {
        let world = try await AliasWorld.make()
        defer { world.close() }
        #expect(try await world.refreshJobs("alice@mail.example") == 1)
        _ = try await world.directory.createAlias("keys@mail.example", for: world.alice, by: AliasWorld.api)
        let payload: String = try await world.db.pool.query("SELECT payload::text AS p FROM jobs WHERE payload->>'address' = 'keys@mail.example'").first!.decode("p")
        #expect(try JSONDecoder().decode(WKDRefreshJob.Payload.self, from: Data(payload.utf8)) == WKDRefreshJob.Payload(address: "keys@mail.example"))
        let jobs = try await world.db.count("SELECT count(*) FROM jobs")
        _ = await refusal { try await world.directory.deleteAlias("keys@mail.example", of: world.alice, by: AliasWorld.api) }
        #expect(try await world.db.count("SELECT count(*) FROM jobs") == jobs)
    }
}

import Aliases
import Core
import CoreTestSupport
import Foundation
import KeyDiscovery
import Keystore
import OpenPGP
import Synchronization
import Testing

/// Answers are kept in PostgreSQL for every instance, each outcome for its own lifetime; addresses on our
/// own domains are answered from our tables and nobody else is asked about them.
@Suite("Key look-up: the cache and our own domains")
struct LookupCacheTests {
    let world: DiscoveryWorld

    init() async throws {
        world = try await DiscoveryWorld.make()
    }

    /// A clock the test moves.
    final class Clock: Sendable {
        let time = Mutex(Date())
        func now() -> Date { time.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test("A found key is answered from the cache, by another instance too, until its lifetime ends")
    func positive() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let clock = Clock()
        let first = try await world.lookup(now: clock.now).lookup(address)
        #expect(first.outcome == .found && !first.cached)
        #expect(first.expiresAt == first.lookedUpAt.addingTimeInterval(86_400))

        // Another instance (its own clients, the same database) answers from the cache.
        clock.advance(3_600)
        let second = try await world.lookup(now: clock.now).lookup(address)
        #expect(second.cached)
        #expect(second.outcome == .found && second.source == .vks)
        #expect(second.keys == first.keys)
        #expect(second.attempts == first.attempts)
        #expect(abs(second.lookedUpAt.timeIntervalSince(first.lookedUpAt)) < 0.001)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
        #expect(try await world.db.count("SELECT count(*) FROM key_lookups WHERE address = '\(address)' AND keys->0->>'fingerprint' = '\(fingerprint)'") == 1)

        // Past its lifetime the sources are asked again.
        clock.advance(86_400)
        let third = try await world.lookup(now: clock.now).lookup(address)
        #expect(!third.cached)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 2)

        // refresh asks at once.
        let fourth = try await world.lookup(now: clock.now).lookup(address, refresh: true)
        #expect(!fourth.cached)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 3)
    }

    @Test("\"No key\" and failures are cached for their own lifetimes")
    func negativeAndFailure() async throws {
        defer { world.close() }
        let clock = Clock()
        let none = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let answer = try await world.lookup(now: clock.now).lookup(none)
        #expect(answer.outcome == .notFound)
        #expect(answer.expiresAt == answer.lookedUpAt.addingTimeInterval(3_600))
        clock.advance(3_599)
        #expect(try await world.lookup(now: clock.now).lookup(none).cached)
        clock.advance(2)
        #expect(try await world.lookup(now: clock.now).lookup(none).cached == false)

        let broken = "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example"
        let failed = try await world.lookup(world.configuration(failureLifetime: .seconds(60)), now: clock.now).lookup(broken)
        #expect(failed.outcome == .failed)
        #expect(failed.expiresAt == failed.lookedUpAt.addingTimeInterval(60))
        let cached = try await world.lookup(now: clock.now).lookup(broken)
        #expect(cached.cached && cached.outcome == .failed)
        #expect(cached.attempts.map(\.result) == [.failed, .notFound])
    }

    @Test("A found key's answer ends when the key expires, if that is sooner")
    func endsWithTheKey() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        try await GnuPGHome.with { home in
            let before = Date()
            _ = try await home.gpg(["--quick-gen-key", "Soon <\(address)>", "ed25519", "default", "seconds=7200"])
            let after = Date()
            let armored = try await home.gpg(["--armor", "--export", address])
            try world.serveWKD(Array(armored.utf8), localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
            let answer = try await world.lookup().lookup(address)
            #expect(answer.outcome == .found)
            let keyExpiry = try #require(answer.keys.first?.expiresAt)
            #expect(answer.expiresAt == keyExpiry)
            // gpg dated the key between before and after (whole seconds) and made it expire two hours later.
            #expect(keyExpiry >= before.addingTimeInterval(7_199) && keyExpiry <= after.addingTimeInterval(7_200))
        }
    }

    @Test("Many askers of one address at once cause one look-up")
    func oneFlight() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let lookup = world.lookup()
        let answers = try await withThrowingTaskGroup(of: LookupAnswer.self) { group in
            for _ in 0..<8 { group.addTask { try await lookup.lookup(address) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 8 && answers.allSatisfy { $0.keys.map(\.fingerprint.hex) == [fingerprint] })
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
    }

    @Test("An older answer does not replace a newer one; an unreadable row is a miss and is replaced")
    func storeOrder() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let clock = Clock()
        clock.advance(3_600)
        let newer = try await world.lookup(now: clock.now).lookup(address)
        clock.advance(-3_600)
        let older = try await world.lookup(now: clock.now).lookup(address, refresh: true)
        #expect(older.lookedUpAt < newer.lookedUpAt)
        let kept = try await world.lookup(now: clock.now).lookup(address)
        #expect(kept.cached && abs(kept.lookedUpAt.timeIntervalSince(newer.lookedUpAt)) < 0.001)

        // A row this version cannot read (a certificate the keys column does not describe), fresh for a day
        // and dated before the next look-up.
        try await world.db.pool.query("""
            UPDATE key_lookups SET outcome = 'found', source = 'wkd', keys = '[{"fingerprint": "not hex"}]', certificates = '\\x00',
                                   looked_up_at = looked_up_at - interval '1 day', expires_at = \(clock.now().addingTimeInterval(86_400))
            WHERE address = \(address)
            """)
        let fresh = try await world.lookup(now: clock.now).lookup(address)
        #expect(!fresh.cached && fresh.outcome == .notFound)
        #expect(try await world.db.count("SELECT count(*) FROM key_lookups WHERE address = '\(address)' AND outcome = 'not_found'") == 1)
    }

    @Test("Forgetting and pruning remove cached answers")
    func forgetAndPrune() async throws {
        defer { world.close() }
        let clock = Clock()
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        _ = try await world.lookup(now: clock.now).lookup(address)
        #expect(try await world.lookup().forget(address))
        #expect(try await world.lookup().forget(address) == false)
        _ = try await world.lookup(now: clock.now).lookup(address)
        #expect(try await world.lookup(now: clock.now).prune() == 0)
        clock.advance(3_600 + 86_400 + 1)
        #expect(try await world.lookup(now: clock.now).prune() >= 1)
        #expect(try await world.db.count("SELECT count(*) FROM key_lookups WHERE address = '\(address)'") == 0)
    }

    @Test("Our own domains are answered from our tables: the bound key, only that User ID, nobody else asked")
    func ownDomain() async throws {
        defer { world.close() }
        let op = AliasDirectory.Actor(name: "test")
        let aliases = AliasDirectory(pool: world.db.pool, rules: AddressRules(), logger: world.db.logger)
        let local = DiscoveryWorld.unique()
        let address = "\(local)@\(DiscoveryWorld.ownDomain)"
        let alias = "\(DiscoveryWorld.unique())@\(DiscoveryWorld.ownDomain)"
        let account = try await aliases.createAccount(primary: address, by: op).id
        _ = try await aliases.createAlias(alias, for: account, by: op)
        let (fingerprint, key) = try await TestKeys.shared.make([address, alias])
        let keystore = AccountKeystore(pool: world.servicePool, logger: world.db.logger)
        _ = try await keystore.importCertificates(key, for: account, by: "test")

        let lookup = world.lookup()
        let unbound = try await lookup.lookup(address)
        #expect(unbound.outcome == .notFound)
        #expect(unbound.attempts.map(\.source) == [.local])
        #expect(unbound.attempts[0].detail == "no key is bound to this address")

        try await keystore.bind(address, to: fingerprint, of: account, by: "test")
        let bound = try await lookup.lookup(address)
        #expect(bound.outcome == .found && bound.source == .local && !bound.cached && bound.expiresAt == nil)
        #expect(bound.keys.map(\.fingerprint.hex) == [fingerprint])
        let ids = try Certificate.parse(bound.keys[0].certificate).flatMap { $0.userIDs.map(\.text) }
        #expect(ids == ["Test <\(address)>"])
        // The alias is not bound: no key for it, though the key carries its User ID.
        #expect(try await lookup.lookup(alias).outcome == .notFound)

        try await keystore.bind(alias, to: fingerprint, of: account, by: "test")
        let aliasAnswer = try await lookup.lookup(alias)
        #expect(try Certificate.parse(try #require(aliasAnswer.keys.first).certificate).flatMap { $0.userIDs.map(\.text) } == ["Other <\(alias)>"])
        // A disabled address has no key to give.
        _ = try await aliases.setEnabled(false, alias, of: account, by: op)
        #expect(try await lookup.lookup(alias).outcome == .notFound)
        #expect(try await world.db.count("SELECT count(*) FROM key_lookups") == 0)
        // Addresses that do not exist on our domains are not asked about elsewhere either.
        let stranger = try await lookup.lookup("\(DiscoveryWorld.unique())@\(DiscoveryWorld.ownDomain)")
        #expect(stranger.outcome == .notFound && stranger.attempts.map(\.source) == [.local])
    }
}

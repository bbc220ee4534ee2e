import Core
import CoreTestSupport
import Foundation
import KeyDiscovery
import OpenPGP
import Testing

/// The look-up order against the test world's real WKD hosts (nginx, HTTPS with the world's CA, names
/// from its DNSSEC-signed zone) and the VKS server: WKD advanced, else direct, first hit wins, only then
/// the VKS; only valid keys with the asked User ID count; failures stay failures.
@Suite("Key look-up: WKD first, then the VKS")
struct KeyLookupTests {
    let world: DiscoveryWorld

    init() async throws {
        world = try await DiscoveryWorld.make()
    }

    /// The User IDs of the one certificate in `key`.
    func userIDs(_ key: DiscoveredKey) throws -> [String] {
        try Certificate.parse(key.certificate).flatMap { $0.userIDs.map(\.text) }
    }

    @Test("Advanced method only: found at openpgpkey.<domain>, from WKD")
    func advancedOnly() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-advanced.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-advanced.secure.palisade.example", method: .advanced)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(answer.source == .wkd)
        #expect(answer.keys.map(\.fingerprint.hex) == [fingerprint])
        #expect(answer.attempts.map(\.method) == ["advanced"])
        #expect(answer.attempts.first?.url?.hasPrefix("https://openpgpkey.wkd-advanced.secure.palisade.example:") == true)
        #expect(answer.cached == false)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 0)
    }

    @Test("Direct method only: no openpgpkey host, so the domain itself is asked")
    func directOnly() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(answer.source == .wkd)
        #expect(answer.keys.map(\.fingerprint.hex) == [fingerprint])
        #expect(answer.attempts.map(\.method) == ["direct"])
        #expect(answer.attempts.first?.url?.contains("/.well-known/openpgpkey/hu/\(WKDHash.hash(localPart: local))?l=\(local)") == true)
    }

    @Test("Both methods serve a key: the advanced one wins and nothing else is asked")
    func both() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-both.secure.palisade.example"
        let advanced = try await TestKeys.shared.make([address])
        let direct = try await TestKeys.shared.make([address])
        try world.serveWKD(advanced.key, localPart: local, domain: "wkd-both.secure.palisade.example", method: .advanced)
        try world.serveWKD(direct.key, localPart: local, domain: "wkd-both.secure.palisade.example", method: .direct)
        try world.vks.publish(direct.key, verified: [address])
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(answer.keys.map(\.fingerprint.hex) == [advanced.fingerprint])
        #expect(answer.attempts.count == 1)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 0)
        // The direct URL was never fetched (nginx logs every request: the advanced one is there).
        let hash = WKDHash.hash(localPart: local)
        #expect(try await world.accessLogLines(containing: "/.well-known/openpgpkey/wkd-both.secure.palisade.example/hu/\(hash)", reaching: 1) == 1)
        #expect(try world.accessLogLines(containing: "/.well-known/openpgpkey/hu/\(hash)") == 0)
    }

    @Test("The openpgpkey host exists but has no key: the direct method is not tried (the draft's rule); the VKS is")
    func noFallbackToDirect() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-both.secure.palisade.example"
        let (_, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-both.secure.palisade.example", method: .direct)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .notFound)
        #expect(answer.attempts.map(\.source) == [.wkd, .vks])
        #expect(answer.attempts[0].method == "advanced" && answer.attempts[0].result == .notFound)
        let hash = WKDHash.hash(localPart: local)
        #expect(try await world.accessLogLines(containing: "/.well-known/openpgpkey/wkd-both.secure.palisade.example/hu/\(hash)", reaching: 1) == 1)
        #expect(try world.accessLogLines(containing: "/.well-known/openpgpkey/hu/\(hash)") == 0)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
    }

    @Test("Two valid keys for one address: both found, and both read back from the cache")
    func twoKeys() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let old = try await TestKeys.shared.make([address])
        let new = try await TestKeys.shared.make([address])
        try world.serveWKD(old.key + new.key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(Set(answer.keys.map(\.fingerprint.hex)) == [old.fingerprint, new.fingerprint])
        let cached = try await world.lookup().lookup(address)
        #expect(cached.cached)
        #expect(cached.keys == answer.keys)
    }

    @Test("A WKD host on a non-public address is refused unless allowed: a failure, never a connection")
    func nonPublicRefused() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let (_, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup(world.configuration(allowPrivateAddresses: false)).lookup(address)
        #expect(answer.outcome == .failed)
        #expect(answer.attempts[0].result == .failed)
        #expect(answer.attempts[0].detail?.contains("not public") == true)
        #expect(try world.accessLogLines(containing: "/.well-known/openpgpkey/hu/\(WKDHash.hash(localPart: local))") == 0)
    }

    @Test("Neither method has the key: the VKS is asked and answers")
    func neitherThenVKS() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(answer.source == .vks)
        #expect(answer.keys.map(\.fingerprint.hex) == [fingerprint])
        #expect(answer.attempts.map(\.source) == [.wkd, .vks])
        #expect(answer.attempts.map(\.result) == [.notFound, .found])
        #expect(answer.attempts[0].detail == "HTTP 404")
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
    }

    @Test("A WKD key without a User ID for the asked address does not count: the VKS is asked")
    func wrongUserID() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let stranger = try await TestKeys.shared.make(["\(DiscoveryWorld.unique())@elsewhere.example"])
        try world.serveWKD(stranger.key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .notFound)
        #expect(answer.keys.isEmpty)
        #expect(answer.attempts.map(\.result) == [.notFound, .notFound])
        #expect(answer.attempts[0].detail?.contains("has no valid User ID for \(address)") == true)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
    }

    @Test("An expired or revoked key on WKD does not count")
    func expiredAndRevoked() async throws {
        defer { world.close() }
        let expiredLocal = DiscoveryWorld.unique()
        let expiredAddress = "\(expiredLocal)@wkd-direct.secure.palisade.example"
        let expired = try await TestKeys.shared.makeExpired(expiredAddress)
        try world.serveWKD(expired.key, localPart: expiredLocal, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let first = try await world.lookup().lookup(expiredAddress)
        #expect(first.outcome == .notFound)
        #expect(first.attempts[0].detail?.contains("key \(expired.fingerprint) expired") == true)

        let revokedLocal = DiscoveryWorld.unique()
        let revokedAddress = "\(revokedLocal)@wkd-direct.secure.palisade.example"
        let made = try await TestKeys.shared.make([revokedAddress])
        try world.serveWKD(try await TestKeys.shared.revoke(made.fingerprint), localPart: revokedLocal, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let second = try await world.lookup().lookup(revokedAddress)
        #expect(second.outcome == .notFound)
        #expect(second.attempts[0].detail?.contains("key \(made.fingerprint) is revoked") == true)
    }

    @Test("Only the asked User ID is kept from what a source served")
    func minimised() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let other = "\(DiscoveryWorld.unique())@private.example"
        let (_, key) = try await TestKeys.shared.make([address, other])
        try world.serveWKD(key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        let ids = try userIDs(try #require(answer.keys.first))
        #expect(ids == ["Test <\(address)>"])
        #expect(!String(decoding: answer.keys[0].certificate, as: UTF8.self).contains(other))
    }

    @Test("A WKD host answering 503 is a failure; with no key at the VKS the answer is failed, not not_found")
    func serverError() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example"
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .failed)
        #expect(answer.attempts.map(\.result) == [.failed, .notFound])
        #expect(answer.attempts[0].detail == "HTTP 503")
        #expect(answer.attempts[0].method == "advanced")
    }

    @Test("A WKD failure does not hide a key the VKS has")
    func failureThenVKS() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-broken.secure.palisade.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .found)
        #expect(answer.source == .vks)
        #expect(answer.keys.map(\.fingerprint.hex) == [fingerprint])
        #expect(answer.attempts.map(\.result) == [.failed, .found])
    }

    @Test("A domain that does not exist has no WKD; the VKS is still asked")
    func noSuchDomain() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@nowhere-at-all.secure.palisade.example"
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .notFound)
        #expect(answer.attempts.map(\.result) == [.notFound, .notFound])
        #expect(answer.attempts[0].detail?.contains("has an address") == true)
    }

    @Test("A bogus DNSSEC answer for the WKD host is a failure, never a fall-back to the direct method")
    func bogusDNS() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@expired.palisade.example"
        let answer = try await world.lookup().lookup(address)
        #expect(answer.outcome == .failed)
        #expect(answer.attempts[0].result == .failed)
        #expect(answer.attempts[0].method == "advanced")
        #expect(answer.attempts[0].url == nil)
    }

    @Test("A 429 from the VKS is a failure with its Retry-After, and the client holds back until then")
    func rateLimited() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@wkd-none.secure.palisade.example"
        world.vks.limit("/vks/v1/by-email/\(address)", retryAfter: 120)
        let time = Date()
        let lookup = world.lookup(now: { time })
        let answer = try await lookup.lookup(address)
        #expect(answer.outcome == .failed)
        let vks = try #require(answer.attempts.last)
        #expect(vks.source == .vks && vks.result == .failed)
        #expect(vks.detail?.contains("rate-limited") == true)
        let retryAfter = try #require(vks.retryAfter)
        #expect(retryAfter == time.addingTimeInterval(120))
        // Cached at least until then, whatever the failure lifetime says.
        #expect(try #require(answer.expiresAt) >= retryAfter)
        // Asked again (the cache bypassed): the client does not send the request at all.
        let again = try await lookup.lookup(address, refresh: true)
        #expect(again.outcome == .failed)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(address)") == 1)
    }

    @Test("With WKD turned off only the VKS is asked")
    func wkdDisabled() async throws {
        defer { world.close() }
        let local = DiscoveryWorld.unique()
        let address = "\(local)@wkd-direct.secure.palisade.example"
        let (_, key) = try await TestKeys.shared.make([address])
        try world.serveWKD(key, localPart: local, domain: "wkd-direct.secure.palisade.example", method: .direct)
        let answer = try await world.lookup(world.configuration(wkdEnabled: false)).lookup(address)
        #expect(answer.outcome == .notFound)
        #expect(answer.attempts.map(\.source) == [.vks])
    }

    @Test("An address that is not one is refused before anything is asked")
    func invalidAddress() async throws {
        defer { world.close() }
        await #expect(throws: KeyLookupError.self) { try await world.lookup().lookup("not an address") }
    }
}

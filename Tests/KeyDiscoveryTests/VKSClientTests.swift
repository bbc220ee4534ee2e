import Core
import CoreTestSupport
import Foundation
import HTTPFetch
import KeyDiscovery
import OpenPGP
import Testing

/// The VKS client against a server that implements Hagrid's documented API, over HTTPS through nginx.
@Suite("VKS client")
struct VKSClientTests {
    let world: DiscoveryWorld
    let client: VKSClient

    init() async throws {
        world = try await DiscoveryWorld.make()
        client = VKSClient(fetcher: world.fetcher, configuration: world.configuration())
    }

    @Test("By fingerprint (primary key or subkey), key ID and e-mail; unknown ones are 404, not errors")
    func lookups() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@vks.example"
        let (fingerprint, key) = try await TestKeys.shared.make([address])
        try world.vks.publish(key, verified: [address])
        let certificate = try #require(try Certificate.parse(key).first)
        let subkey = try #require(certificate.subkeys.first).key.fingerprint

        for lookup in [try await client.byFingerprint(try Fingerprint(fingerprint)), try await client.byFingerprint(subkey),
                       try await client.byKeyID(String(fingerprint.suffix(16)).lowercased()), try await client.byEmail(try EmailAddress(address))] {
            guard case .found(let data) = lookup else {
                Issue.record("expected the key, got \(lookup)")
                continue
            }
            #expect(try Certificate.parse(data).first?.fingerprint.hex == fingerprint)
        }
        let unknown = try Fingerprint(String(repeating: "AB", count: 20))
        #expect(try await client.byFingerprint(unknown) == .notFound)
        #expect(try await client.byEmail(try EmailAddress("\(DiscoveryWorld.unique())@vks.example")) == .notFound)
        await #expect(throws: VKSError.self) { try await client.byKeyID("0x1234") }
    }

    @Test("By e-mail only for verified addresses, escaped in the path")
    func unverified() async throws {
        defer { world.close() }
        let verified = "\(DiscoveryWorld.unique())+tag@vks.example"
        let unverified = "\(DiscoveryWorld.unique())@vks.example"
        let (_, key) = try await TestKeys.shared.make([verified, unverified])
        try world.vks.publish(key, verified: [verified])
        guard case .found = try await client.byEmail(try EmailAddress(verified)) else {
            Issue.record("the verified address was not found")
            return
        }
        #expect(try await client.byEmail(try EmailAddress(unverified)) == .notFound)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(verified.replacingOccurrences(of: "+", with: "%2B"))") == 1)
    }

    @Test("Upload, then request verification: the documented JSON both ways; an unknown token is refused with the server's message")
    func uploadAndVerify() async throws {
        defer { world.close() }
        let first = "\(DiscoveryWorld.unique())@vks.example"
        let second = "\(DiscoveryWorld.unique())@vks.example"
        let (fingerprint, key) = try await TestKeys.shared.make([first, second])
        let uploaded = try await client.upload(armoredKey: Armor.encode(key, as: .publicKey))
        #expect(uploaded.keyFingerprint == fingerprint)
        #expect(uploaded.status == [first: .unpublished, second: .unpublished])
        #expect(!uploaded.token.isEmpty)
        let requested = try await client.requestVerify(token: uploaded.token, addresses: [first], locale: ["de_DE"])
        #expect(requested.status == [first: .pending, second: .unpublished])
        // Known by fingerprint at once.
        guard case .found = try await client.byFingerprint(try Fingerprint(fingerprint)) else {
            Issue.record("the uploaded key is not served by fingerprint")
            return
        }
        do {
            _ = try await client.requestVerify(token: "no-such-token", addresses: [first])
            Issue.record("an unknown token was accepted")
        } catch {
            #expect(error == .refused(status: 400, message: "Upload session expired. Please try again."))
        }
        do {
            _ = try await client.upload(armoredKey: "not a key")
            Issue.record("junk was accepted")
        } catch {
            #expect(error == .refused(status: 400, message: "Parsing of key data failed."))
        }
    }

    @Test("429 with Retry-After: rate-limited until then, and nothing more is sent to the server meanwhile")
    func retryAfter() async throws {
        defer { world.close() }
        let address = "\(DiscoveryWorld.unique())@vks.example"
        let path = "/vks/v1/by-email/\(address)"
        world.vks.limit(path, retryAfter: 30)
        let time = Date()
        let client = VKSClient(fetcher: world.fetcher, configuration: world.configuration(), now: { time })
        do {
            _ = try await client.byEmail(try EmailAddress(address))
            Issue.record("the 429 was not an error")
        } catch {
            #expect(error as? VKSError == .rateLimited(until: time.addingTimeInterval(30)))
        }
        // Another look-up by e-mail waits: it never reaches the server.
        let next = "\(DiscoveryWorld.unique())@vks.example"
        await #expect(throws: VKSError.rateLimited(until: time.addingTimeInterval(30))) { try await client.byEmail(try EmailAddress(next)) }
        #expect(world.vks.requests(for: path) == 1)
        #expect(world.vks.requests(for: "/vks/v1/by-email/\(next)") == 0)
        // Look-ups by fingerprint, which Hagrid limits apart, still go.
        let other = try Fingerprint(String(repeating: "CD", count: 20))
        #expect(try await client.byFingerprint(other) == .notFound)
        #expect(world.vks.requests(for: "/vks/v1/by-fingerprint/\(other.hex)") == 1)
    }

    @Test("An unreachable VKS is a transport failure, not \"not found\"")
    func unreachable() async throws {
        defer { world.close() }
        var configuration = world.configuration()
        configuration.vksURL = URL(string: "https://nowhere.secure.palisade.example:1")!
        let client = VKSClient(fetcher: world.fetcher, configuration: configuration)
        do {
            _ = try await client.byEmail(try EmailAddress("x@vks.example"))
            Issue.record("an unreachable server answered")
        } catch {
            guard case .transport = error as? VKSError else {
                Issue.record("expected a transport failure, got \(error)")
                return
            }
        }
    }
}

@Suite("Retry-After")
struct RetryAfterTests {
    @Test("Retry-After: seconds or an HTTP date, bounded to a day")
    func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RetryAfter.parse("120", now: now) == now.addingTimeInterval(120))
        #expect(RetryAfter.parse("99999999", now: now) == now.addingTimeInterval(86_400))
        #expect(RetryAfter.parse("Fri, 15 Jan 2027 09:00:00 GMT", now: now) == now.addingTimeInterval(3_600))
        // A date already past means now.
        #expect(RetryAfter.parse("Thu, 14 Jan 2027 08:00:00 GMT", now: now) == now)
        #expect(RetryAfter.parse("soon", now: now) == nil)
        #expect(RetryAfter.parse(nil, now: now) == nil)
        #expect(RetryAfter.parse("-5", now: now) == nil)
    }
}

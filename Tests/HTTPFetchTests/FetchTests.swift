import Core
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import Logging
import Testing

/// Fetches from the test world's real nginx, the host names resolved by the real DNS world and the
/// connections pinned to what it returned: every failure kind named exactly.
@Suite("HTTPS fetching against the test world")
struct FetchTests {
    let world: TestWorld
    let fetcher: HTTPFetcher

    init() throws {
        world = try TestWorld.current()
        let logger = Logger(label: "palisade.test.http")
        let resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(
                trustAnchorFiles: [world.trustAnchorFile],
                stubZones: try world.stubZones.map(DNSStubZone.init(parsing:)),
                timeout: .seconds(5)
            ),
            logger: logger
        )
        fetcher = try HTTPFetcher(
            configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile, connectTimeout: .seconds(2), timeout: .seconds(5),
                                                  maxBodySize: 4 << 20),
            resolver: resolver, logger: logger
        )
    }

    func url(_ host: String, _ path: String) -> URL {
        URL(string: "https://\(host).secure.palisade.example:\(world.httpsPort)\(path)")!
    }

    func failure(_ request: HTTPRequest) async -> HTTPFetchError? {
        do {
            let response = try await fetcher.fetch(request)
            Issue.record("expected an error, got HTTP \(response.status)")
            return nil
        } catch let error as HTTPFetchError {
            return error
        } catch {
            Issue.record("expected an HTTPFetchError, got \(error)")
            return nil
        }
    }

    @Test("A small body over HTTP/2 from the address DNSSEC vouched for")
    func smallBody() async throws {
        let response = try await fetcher.fetch(.get(url("www", "/small.txt")))
        #expect(response.status == 200)
        #expect(response.text == "hello from the Palisade test world\n")
        #expect(response.header("Content-Type") == "text/plain")
        #expect(response.httpVersion == "2")
        #expect(response.address == IPAddress("127.0.0.1"))
        #expect(response.addressSecurity == .secure)
    }

    @Test("A 404 is a response with its status, not an error")
    func notFound() async throws {
        let response = try await fetcher.fetch(.get(url("www", "/missing")))
        #expect(response.status == 404)
        #expect(response.text == "not here\n")
    }

    @Test("POST sends the body, content type and User-Agent")
    func post() async throws {
        let body = Array("{\"report\": true}".utf8)
        let response = try await fetcher.fetch(.post(url("www", "/echo"), contentType: "application/tlsrpt+json", body: body))
        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.header("X-Echo-Method") == "POST")
        #expect(response.header("X-Echo-Content-Type") == "application/tlsrpt+json")
        #expect(response.header("X-Echo-User-Agent") == "Palisade/\(PalisadeVersion.current)")
    }

    @Test("A certificate for another name is a host-name mismatch")
    func wrongHost() async {
        #expect(await failure(.get(url("wrong-host", "/small.txt"))) == .tlsFailure(host: "wrong-host.secure.palisade.example", problem: .hostnameMismatch))
    }

    @Test("An expired certificate is named as expired")
    func expired() async {
        #expect(await failure(.get(url("lapsed", "/small.txt"))) == .tlsFailure(host: "lapsed.secure.palisade.example", problem: .expired))
    }

    @Test("A self-signed certificate is named as self-signed")
    func selfSigned() async {
        #expect(await failure(.get(url("self-signed", "/small.txt"))) == .tlsFailure(host: "self-signed.secure.palisade.example", problem: .selfSigned))
    }

    @Test("A server that refuses the handshake for a name is a handshake failure")
    func handshakeRefused() async {
        guard case .tlsFailure(let host, .handshakeFailed) = await failure(.get(url("nowhere", "/small.txt"))) else {
            Issue.record("expected a handshake failure")
            return
        }
        #expect(host == "nowhere.secure.palisade.example")
    }

    @Test("A redirect is refused unless the request allows it")
    func redirects() async throws {
        let location = url("www", "/small.txt").absoluteString
        #expect(await failure(.get(url("www", "/redirect"))) == .redirectRefused(location: location))
        let response = try await fetcher.fetch(HTTPRequest(url: url("www", "/redirect"), maxRedirects: 1))
        #expect(response.status == 200)
        #expect(response.url.absoluteString == location)
    }

    @Test("A body over the limit is an error, with or without Content-Length; a request cannot raise the limit")
    func oversize() async throws {
        #expect(await failure(.get(url("www", "/large.bin"), maxBodySize: 1 << 20)) == .tooLarge(limit: 1 << 20))
        #expect(await failure(.get(url("www", "/stream"), maxBodySize: 1 << 20)) == .tooLarge(limit: 1 << 20))
        #expect(await failure(.get(url("www", "/small.txt"), maxBodySize: 10)) == .tooLarge(limit: 10))
        let whole = try await fetcher.fetch(.get(url("www", "/large.bin")))
        #expect(whole.body.count == 2 << 20)
        // http.maxBodySize is the ceiling: a request asking for more gets no more.
        let resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile], stubZones: try world.stubZones.map(DNSStubZone.init(parsing:))),
            logger: Logger(label: "palisade.test.http")
        )
        let strict = try HTTPFetcher(configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile, maxBodySize: 1 << 20),
                                     resolver: resolver, logger: Logger(label: "palisade.test.http"))
        do {
            _ = try await strict.fetch(.get(url("www", "/large.bin"), maxBodySize: 4 << 20))
            Issue.record("a request must not raise http.maxBodySize")
        } catch let error as HTTPFetchError {
            #expect(error == .tooLarge(limit: 1 << 20))
        }
    }

    @Test("A body that trickles in past the timeout is timed out")
    func timeout() async {
        var request = HTTPRequest.get(url("www", "/slow.bin"))
        request.timeout = .milliseconds(500)
        #expect(await failure(request) == .timedOut(after: .milliseconds(500)))
    }

    @Test("Cancelling the task stops the transfer")
    func cancellation() async {
        var request = HTTPRequest.get(url("www", "/slow.bin"))
        request.timeout = .seconds(60)
        let fetch = Task { [fetcher] in try await fetcher.fetch(request) }
        fetch.cancel()
        await #expect(throws: CancellationError.self) { _ = try await fetch.value }
    }

    @Test("A port nothing listens on is a connect failure")
    func connectRefused() async {
        let request = HTTPRequest.get(URL(string: "https://www.secure.palisade.example:\(world.deadDNSPort)/")!)
        guard case .connectFailed(let host, _) = await failure(request) else {
            Issue.record("expected a connect failure")
            return
        }
        #expect(host == "www.secure.palisade.example")
    }

    @Test("The connection goes to the address DNS gave, not anywhere else: 127.0.0.2 has no server")
    func pinnedToDNSAddress() async {
        guard case .connectFailed(_, let reason) = await failure(.get(url("mx2", "/small.txt"))) else {
            Issue.record("expected a connect failure at 127.0.0.2")
            return
        }
        #expect(reason.contains("127.0.0.2"))
    }

    @Test("DNS failures stop the fetch before any connection: bogus, NXDOMAIN, SERVFAIL")
    func dnsFailures() async {
        guard case .dnsFailure(_, let bogus) = await failure(.get(URL(string: "https://expired.palisade.example:\(world.httpsPort)/")!)) else {
            Issue.record("expected a DNS failure for a bogus name")
            return
        }
        #expect(bogus.contains("DNSSEC validation failed"))
        #expect(await failure(.get(url("nope", "/"))) == .dnsFailure(host: "nope.secure.palisade.example", reason: "no such name"))
        guard case .dnsFailure = await failure(.get(URL(string: "https://lame.example.net/")!)) else {
            Issue.record("expected a DNS failure for a SERVFAIL name")
            return
        }
    }

    @Test("A host written with a trailing dot is fetched from its pinned address")
    func trailingDot() async throws {
        let response = try await fetcher.fetch(.get(URL(string: "https://www.secure.palisade.example.:\(world.httpsPort)/small.txt")!))
        #expect(response.status == 200)
        #expect(response.address == IPAddress("127.0.0.1"))
    }

    @Test("Only https URLs are fetched")
    func httpsOnly() async {
        #expect(await failure(.get(URL(string: "http://www.secure.palisade.example/")!)) == .invalidURL("http://www.secure.palisade.example/"))
    }

    @Test("Without the test CA the world's certificate is untrusted")
    func systemStore() async throws {
        let resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile], stubZones: try world.stubZones.map(DNSStubZone.init(parsing:))),
            logger: Logger(label: "palisade.test.http")
        )
        let strict = try HTTPFetcher(configuration: HTTPFetchConfiguration(), resolver: resolver, logger: Logger(label: "palisade.test.http"))
        do {
            _ = try await strict.fetch(.get(url("www", "/small.txt")))
            Issue.record("a certificate from the test CA must not be trusted by the system store")
        } catch let error as HTTPFetchError {
            #expect(error == .tlsFailure(host: "www.secure.palisade.example", problem: .untrustedIssuer))
        }
    }

    @Test("Thirty-two fetches at once all arrive intact")
    func concurrent() async throws {
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<32 { group.addTask { try await fetcher.fetch(.get(url("www", "/small.txt"))).text } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(bodies.count == 32)
        #expect(Set(bodies) == ["hello from the Palisade test world\n"])
    }
}

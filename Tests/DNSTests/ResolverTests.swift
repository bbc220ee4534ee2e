import Core
import CoreTestSupport
import DNS
import Foundation
import Logging
import Testing

/// Look-ups against the test world's real nsd, validated by real unbound against the world's own
/// trust anchor: every DNSSEC state and failure kind, each with the exact state asserted.
@Suite("DNS resolver against the test world")
struct ResolverTests {
    let resolver: DNSResolver

    init() throws {
        let world = try TestWorld.current()
        resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(
                trustAnchorFiles: [world.trustAnchorFile],
                stubZones: try world.stubZones.map(DNSStubZone.init(parsing:)),
                timeout: .seconds(3)
            ),
            logger: Logger(label: "palisade.test.dns")
        )
    }

    @Test("A secure TXT record made of several strings is joined, and is secure")
    func secureMultiStringTXT() async throws {
        let answer = try await resolver.txt("long.secure.palisade.example")
        #expect(answer.security == .secure)
        #expect(answer.rcode == .noError)
        #expect(answer.fromCache == false)
        #expect(answer.ttl > 0 && answer.ttl <= 300)
        let records = try answer.records()
        #expect(records.count == 1)
        #expect(records.first?.strings.count == 3)
        #expect(records.first?.text == "part one, part two, part three")
    }

    @Test("MX records with their preferences, secure")
    func secureMX() async throws {
        let answer = try await resolver.mx("secure.palisade.example")
        #expect(answer.security == .secure)
        let records = try answer.records().sorted { $0.preference < $1.preference }
        #expect(records == [
            MXRecord(preference: 10, exchange: "mx1.secure.palisade.example"),
            MXRecord(preference: 20, exchange: "mx2.secure.palisade.example"),
        ])
    }

    @Test("TLSA and CAA records decode field by field")
    func tlsaAndCAA() async throws {
        let tlsa = try await resolver.tlsa("_25._tcp.mx1.secure.palisade.example")
        #expect(tlsa.security == .secure)
        let record = try #require(try tlsa.records().first)
        #expect(record.usage == 3 && record.selector == 1 && record.matchingType == 1)
        #expect(record.data.map { String(format: "%02x", $0) }.joined() == "0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6")

        let caa = try await resolver.caa("secure.palisade.example")
        #expect(caa.security == .secure)
        let records = try caa.records().sorted { $0.tag < $1.tag }
        #expect(records.map(\.tag) == ["iodef", "issue"])
        #expect(records[0].isCritical && !records[1].isCritical)
        #expect(String(decoding: records[1].value, as: UTF8.self) == "ca.palisade.example")
    }

    @Test("A and AAAA addresses of one host")
    func addresses() async throws {
        let addresses = try await resolver.addresses(of: "dual.secure.palisade.example")
        #expect(addresses.all == [IPAddress("::1")!, IPAddress("127.0.0.1")!])
        #expect(addresses.security == .secure)
        #expect(addresses.failure == nil)
    }

    @Test("A CNAME chain is followed and reported")
    func cnameChain() async throws {
        let answer = try await resolver.lookup("alias.secure.palisade.example", ARecord.self)
        #expect(answer.security == .secure)
        #expect(answer.cnameChain == ["alias2.secure.palisade.example", "www.secure.palisade.example"])
        #expect(answer.canonicalName == "www.secure.palisade.example")
        #expect(try answer.records() == [ARecord(address: IPAddress("127.0.0.1")!)])
    }

    @Test("A CNAME from a signed zone into an unsigned one is insecure as a whole")
    func cnameIntoInsecureZone() async throws {
        let answer = try await resolver.lookup("outside.secure.palisade.example", ARecord.self)
        #expect(answer.security == .insecure)
        #expect(answer.cnameChain == ["www.insecure.palisade.example"])
        #expect(try answer.records().count == 1)
    }

    @Test("An unsigned child zone is insecure, not bogus")
    func insecureZone() async throws {
        let answer = try await resolver.txt("insecure.palisade.example")
        #expect(answer.security == .insecure)
        #expect(try answer.records().map(\.text) == ["unsigned"])
    }

    @Test("Expired signatures are bogus, with unbound's reason, and the data is not handed out")
    func expiredSignatures() async throws {
        let answer = try await resolver.txt("expired.palisade.example")
        guard case .bogus(let reason) = answer.security else {
            Issue.record("expected bogus, got \(answer.security)")
            return
        }
        #expect(reason.lowercased().contains("expired"))
        #expect(answer.rcode == .serverFailure)
        guard case .failed = answer.outcome else {
            Issue.record("a bogus answer must be a failure, got \(answer.outcome)")
            return
        }
        #expect(throws: DNSError.self) { try answer.records() }
    }

    @Test("A record changed after signing is bogus")
    func tamperedRecord() async throws {
        let answer = try await resolver.txt("broken.palisade.example")
        guard case .bogus(let reason) = answer.security else {
            Issue.record("expected bogus, got \(answer.security)")
            return
        }
        #expect(!reason.isEmpty)
        #expect(throws: DNSError.self) { try answer.records() }
    }

    @Test("NXDOMAIN in a signed zone is a secure denial, not a failure")
    func secureNXDOMAIN() async throws {
        let answer = try await resolver.txt("nope.secure.palisade.example")
        #expect(answer.rcode == .nameError)
        #expect(answer.security == .secure)
        #expect(answer.outcome == .noSuchName)
        #expect(try answer.records().isEmpty)
    }

    @Test("A name without records of the type is NODATA: empty, secure, and not a failure")
    func secureNoData() async throws {
        let answer = try await resolver.txt("empty.secure.palisade.example")
        #expect(answer.rcode == .noError)
        #expect(answer.security == .secure)
        #expect(answer.outcome == .noRecords)
    }

    @Test("A zone whose server refuses it is SERVFAIL: a failure, not an empty answer")
    func lameDelegation() async throws {
        let answer = try await resolver.txt("lame.example.net")
        #expect(answer.rcode == .serverFailure)
        #expect(answer.security == .indeterminate)
        #expect(answer.outcome == .failed(reason: "the server answered SERVFAIL"))
        #expect(throws: DNSError.failed(name: "lame.example.net", type: .txt, reason: "the server answered SERVFAIL")) {
            try answer.records()
        }
    }

    @Test("A zone whose server does not answer times out: a failure, not an empty answer")
    func deadServer() async throws {
        let world = try TestWorld.current()
        let resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(
                trustAnchorFiles: [world.trustAnchorFile],
                stubZones: try world.stubZones.map(DNSStubZone.init(parsing:)),
                timeout: .seconds(1)
            ),
            logger: Logger(label: "palisade.test.dns")
        )
        await #expect(throws: DNSError.timedOut(name: "dead.palisade.example", type: .txt, after: .seconds(1))) {
            _ = try await resolver.txt("dead.palisade.example")
        }
    }

    @Test("A repeated look-up is answered from the cache, with the TTL that is left")
    func cachedAnswer() async throws {
        let first = try await resolver.txt("secure.palisade.example")
        let second = try await resolver.txt("secure.palisade.example")
        #expect(first.fromCache == false)
        #expect(second.fromCache == true)
        #expect(second.ttl <= first.ttl)
        #expect(second.security == .secure)
        #expect(try second.records() == first.records())
    }

    @Test("Forwarder mode: answers come through another resolver and are still validated here")
    func forwarder() async throws {
        let world = try TestWorld.current()
        let forwarding = try DNSResolver(
            configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile], forwarders: [world.forwarder], timeout: .seconds(3)),
            logger: Logger(label: "palisade.test.dns")
        )
        let secure = try await forwarding.txt("long.secure.palisade.example")
        #expect(secure.security == .secure)
        #expect(try secure.records().map(\.text) == ["part one, part two, part three"])
        let insecure = try await forwarding.txt("insecure.palisade.example")
        #expect(insecure.security == .insecure)
        #expect(try insecure.records().map(\.text) == ["unsigned"])
        // unbound asks the forwarder with checking disabled (CD) and validates the data itself: bogus here.
        let bogus = try await forwarding.txt("expired.palisade.example")
        #expect(bogus.rcode == .serverFailure)
        guard case .bogus(let reason) = bogus.security else {
            Issue.record("expected bogus through the forwarder, got \(bogus.security)")
            return
        }
        #expect(reason.contains("expired"))
        #expect(throws: DNSError.self) { try bogus.records() }
    }

    @Test("Cancelling the task abandons the look-up")
    func cancellation() async throws {
        let silent = try SilentUDPServer()
        defer { silent.close() }
        let patient = try silent.resolver(timeout: .seconds(60))
        let lookup = Task { try await patient.txt("cancelled.palisade.example") }
        lookup.cancel()
        await #expect(throws: CancellationError.self) { _ = try await lookup.value }
    }

    @Test("Closing the resolver fails a look-up still waiting, whenever it comes, with closed")
    func closeWhileWaiting() async throws {
        let silent = try SilentUDPServer()
        defer { silent.close() }
        let resolver = try silent.resolver(timeout: .seconds(60))
        let lookup = Task { try await resolver.txt("closing.palisade.example") }
        resolver.close()
        await #expect(throws: DNSError.closed) { _ = try await lookup.value }
        // Closed for good: a later look-up fails the same way.
        await #expect(throws: DNSError.closed) { _ = try await resolver.txt("after.palisade.example") }
    }

    @Test("A look-up that outlives dns.timeout fails as timed out")
    func timeout() async throws {
        let silent = try SilentUDPServer()
        defer { silent.close() }
        let impatient = try silent.resolver(timeout: .milliseconds(200))
        await #expect(throws: DNSError.timedOut(name: "timeout.palisade.example", type: .txt, after: .milliseconds(200))) {
            _ = try await impatient.txt("timeout.palisade.example")
        }
    }
}

/// A UDP socket on 127.0.0.1 that receives datagrams and never answers them: a DNS server that is
/// there and silent.
struct SilentUDPServer {
    /// A resolver that sends everything under palisade.example to this silent server.
    func resolver(timeout: Duration) throws -> DNSResolver {
        try DNSResolver(
            configuration: DNSResolverConfiguration(
                trustAnchorFiles: [TestWorld.current().trustAnchorFile],
                stubZones: [DNSStubZone(zone: "palisade.example", address: "127.0.0.1@\(port)")],
                timeout: timeout
            ),
            logger: Logger(label: "palisade.test.dns")
        )
    }

    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard descriptor >= 0, bound else { throw TestWorld.Missing(description: "cannot bind a UDP socket on 127.0.0.1") }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}

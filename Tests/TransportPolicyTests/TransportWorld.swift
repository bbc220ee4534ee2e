import Core
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import Logging
import MailPolicy
import TransportPolicy

/// The test world seen by the transport daemon: its signed zones with the sts-*, dane-* and nullmx cases,
/// the MTA-STS policy hosts on its nginx, and a fresh database the daemon's role writes to.
struct TransportWorld {
    let world: TestWorld
    let db: TestDatabase
    /// Connected as `palisade_transport`, as the daemon is.
    let pool: PostgresPool
    let resolver: DNSResolver
    let fetcher: HTTPFetcher

    static let secure = "secure.palisade.example"
    static let profiles: [String: TransportProfile] = [
        "postfix": TransportProfile(name: "postfix"),
        "tlsrpt": TransportProfile(name: "tlsrpt", mxStyle: .stsAttributes),
        "strict": TransportProfile(name: "strict", strictTesting: true),
    ]

    static func make() async throws -> TransportWorld {
        let world = try TestWorld.current()
        let db = try await TestDatabase.create()
        let logger = Logger(label: "palisade.test.transport")
        let resolver = try world.resolver(logger: logger)
        let fetcher = try world.fetcher(resolver: resolver, logger: logger)
        return TransportWorld(world: world, db: db, pool: db.pool(as: "palisade_transport", maxConnections: 4), resolver: resolver, fetcher: fetcher)
    }

    func close() {
        pool.close()
        db.pool.close()
    }

    func checker(_ timing: TransportPolicyChecker.Timing = .init()) -> TransportPolicyChecker {
        TransportPolicyChecker(
            sts: MTASTSLookup(resolver: resolver, fetcher: fetcher, options: .init(port: world.httpsPort, allowPrivateAddresses: true, timeout: .seconds(10))),
            dane: DANELookup(resolver: resolver), timing: timing)
    }

    func policyResolver(cache: TransportPolicyCache = TransportPolicyCache(capacity: 1000), checker: TransportPolicyChecker? = nil,
                        options: TransportDecision.Options = .init(), now: @escaping @Sendable () -> Date = { Date() }) -> TransportPolicyResolver {
        TransportPolicyResolver(profiles: Self.profiles, checker: checker ?? self.checker(), pool: pool, cache: cache, options: options,
                                logger: db.logger, now: now)
    }

    /// A checker whose DNS reaches nothing (its only stub zone's server never answers): proves an answer
    /// came from the cache.
    func deadChecker() throws -> TransportPolicyChecker {
        let logger = Logger(label: "palisade.test.transport.dead")
        let resolver = try DNSResolver(
            configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile],
                                                    stubZones: [try DNSStubZone(parsing: "palisade.example=127.0.0.1@\(world.deadDNSPort)")],
                                                    timeout: .seconds(1)),
            logger: logger)
        let fetcher = try HTTPFetcher(configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile), resolver: resolver, logger: logger)
        return TransportPolicyChecker(sts: MTASTSLookup(resolver: resolver, fetcher: fetcher, options: .init(port: world.httpsPort, allowPrivateAddresses: true)),
                                      dane: DANELookup(resolver: resolver), timing: .init())
    }
}

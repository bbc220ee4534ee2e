// Key look-ups per second through KeyLookup (the code behind the keystore's GET /v1/lookup): every
// address's key served by a real WKD host of the test world (nginx over HTTPS, names from its signed
// zone), looked up once by 32 callers (each look-up a DNS check, an HTTPS fetch, validation and a cache
// write), then answered from the PostgreSQL cache by 1 and by 32 concurrent callers.
// Benchmarks/run-keystore.sh prepares the world, the keys and the database and runs it.
//
//   LookupBenchmark URL KEYS_DIR ADDRESSES CACHED_LOOKUPS      (PALISADE_TEST_WORLD names the world)
import Core
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import KeyDiscovery
import Logging
import OpenPGP
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 5, let addresses = Int(arguments[3]), let cachedLookups = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: LookupBenchmark URL KEYS_DIR ADDRESSES CACHED_LOOKUPS\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .warning)
let logger = Logger(label: "palisade.bench")
let world = try TestWorld.current()
let domain = "wkd-direct.secure.palisade.example"
let directory = "\(world.wkdRoot)/\(domain)/.well-known/openpgpkey/hu"
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
for index in 0..<addresses {
    let key = try Data(contentsOf: URL(fileURLWithPath: "\(arguments[2])/bench\(index).pgp"))
    try key.write(to: URL(fileURLWithPath: "\(directory)/\(WKDHash.hash(localPart: "bench\(index)"))"))
}
let resolver = try DNSResolver(
    configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile], stubZones: try world.stubZones.map(DNSStubZone.init(parsing:))),
    logger: logger)
let fetcher = try HTTPFetcher(configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile), resolver: resolver, logger: logger)
let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: arguments[1], applicationName: "lookup-bench", maxConnections: 32), logger: logger)
let lookup = KeyLookup(pool: pool, fetcher: fetcher, resolver: resolver,
                       configuration: KeyDiscoveryConfiguration(vksURL: URL(string: "https://keys.secure.palisade.example:\(world.httpsPort)")!,
                                                                wkdPort: world.httpsPort, allowPrivateAddresses: true),
                       logger: logger)

/// Hands out look-up numbers to the concurrent callers.
final class Tickets: Sendable {
    private let next = Atomic<Int>(0)
    func take() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Runs `count` look-ups of the bench addresses (round robin) by `concurrency` callers; the seconds it
/// took and the answers counted by outcome and whether cached.
func run(count: Int, concurrency: Int) async throws -> (Double, [String: Int]) {
    let tickets = Tickets()
    let start = ContinuousClock.now
    let counted = try await withThrowingTaskGroup(of: [String: Int].self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                var counted: [String: Int] = [:]
                while true {
                    let index = tickets.take()
                    guard index < count else { return counted }
                    let answer = try await lookup.lookup("bench\(index % addresses)@\(domain)")
                    counted["\(answer.outcome.rawValue)\(answer.cached ? "_cached" : "")", default: 0] += 1
                }
            }
        }
        return try await group.reduce(into: [:]) { total, part in total.merge(part) { $0 + $1 } }
    }
    let elapsed = ContinuousClock.now - start
    return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, counted)
}

func report(_ phase: String, _ concurrency: Int, _ count: Int, _ result: (Double, [String: Int])) {
    let summary = result.1.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    print(String(format: "lookup phase=%@ concurrency=%d lookups=%d seconds=%.2f lookups_per_sec=%.0f %@",
                 phase, concurrency, count, result.0, Double(count) / result.0, summary))
}

report("uncached-wkd", 32, addresses, try await run(count: addresses, concurrency: 32))
for concurrency in [1, 32] {
    report("cached", concurrency, cachedLookups, try await run(count: cachedLookups, concurrency: concurrency))
}
pool.close()

// Network benchmark: DNS look-ups per second (cached and uncached) and HTTPS fetches per second (small
// bodies, 1 and 32 at once) against the test world on loopback. Benchmarks/run-network.sh starts the
// world and runs dig and curl in the same loops beside it.
//
//   NetworkBenchmark WORLD_DIR [LOOKUPS] [FETCHES]
//
// Output lines are `key=value`.
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import Logging

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: NetworkBenchmark WORLD_DIR [LOOKUPS] [FETCHES]\n".utf8))
    exit(64)
}
setenv("PALISADE_TEST_WORLD", arguments[1], 1)
let lookups = arguments.count > 2 ? Int(arguments[2]) ?? 5000 : 5000
let fetches = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000
let world = try TestWorld.current()
LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
let logger = Logger(label: "palisade.bench")

func resolver(answerCache: Int) throws -> DNSResolver {
    try DNSResolver(
        configuration: DNSResolverConfiguration(
            trustAnchorFiles: [world.trustAnchorFile], stubZones: try world.stubZones.map(DNSStubZone.init(parsing:)),
            timeout: .seconds(10), answerCacheEntries: answerCache
        ),
        logger: logger
    )
}

/// Runs `count` operations, `concurrency` at a time; returns operations per second.
func measure(_ count: Int, concurrency: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        while next < min(concurrency, count) {
            let index = next
            group.addTask { try await operation(index) }
            next += 1
        }
        while try await group.next() != nil {
            if next < count {
                let index = next
                group.addTask { try await operation(index) }
                next += 1
            }
        }
    }
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

struct BenchmarkFailure: Error, CustomStringConvertible { let description: String }

for concurrency in [1, 32] {
    // Uncached: each name asked once, from a fresh resolver whose keys are warmed by one look-up first.
    let fresh = try resolver(answerCache: 0)
    _ = try await fresh.txt("secure.palisade.example")
    let uncached = try await measure(lookups, concurrency: concurrency) { index in
        let answer = try await fresh.txt(try DNSName("b\(index % 5000 + 1).bench.secure.palisade.example"))
        guard answer.isSecure, try answer.records().count == 1 else { throw BenchmarkFailure(description: "bad answer for b\(index % 5000 + 1): \(answer.security) \(answer.outcome) rcode \(answer.rcode)") }
    }
    print(String(format: "dns uncached concurrency=%d lookups=%d lookups_per_sec=%.0f", concurrency, min(lookups, 5000), uncached))
    fresh.close()

    // Cached: one name, answered from the answer cache after the first look-up.
    let cachedResolver = try resolver(answerCache: 10_000)
    _ = try await cachedResolver.txt("long.secure.palisade.example")
    let cached = try await measure(lookups * 10, concurrency: concurrency) { _ in
        let answer = try await cachedResolver.txt("long.secure.palisade.example")
        guard answer.fromCache, answer.isSecure else { throw BenchmarkFailure(description: "expected a cached secure answer") }
    }
    print(String(format: "dns cached concurrency=%d lookups=%d lookups_per_sec=%.0f", concurrency, lookups * 10, cached))

    // Unbound's own cache, without ours in front: the same name through libunbound each time.
    let unboundCached = try resolver(answerCache: 0)
    _ = try await unboundCached.txt("long.secure.palisade.example")
    let viaUnbound = try await measure(lookups, concurrency: concurrency) { _ in
        let answer = try await unboundCached.txt("long.secure.palisade.example")
        guard answer.isSecure else { throw BenchmarkFailure(description: "expected a secure answer") }
    }
    print(String(format: "dns unbound-cached concurrency=%d lookups=%d lookups_per_sec=%.0f", concurrency, lookups, viaUnbound))
}

let dns = try resolver(answerCache: 10_000)
let fetcher = try HTTPFetcher(configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile), resolver: dns, logger: logger)
let small = URL(string: "https://www.secure.palisade.example:\(world.httpsPort)/small.txt")!
_ = try await fetcher.fetch(.get(small))
for concurrency in [1, 32] {
    let rate = try await measure(fetches, concurrency: concurrency) { _ in
        let response = try await fetcher.fetch(.get(small))
        guard response.status == 200, response.body.count == 35 else { throw BenchmarkFailure(description: "bad response \(response.status)") }
    }
    print(String(format: "https palisade concurrency=%d fetches=%d fetches_per_sec=%.0f", concurrency, fetches, rate))
}

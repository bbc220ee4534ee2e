// VKS refreshes per second (`make bench-vks`): KEYS keys (KEYS_DIR/benchI.pgp, made once with pysequoia)
// imported through AccountKeystore; a VKS on the test world's backend port behind its nginx (HTTPS, as
// keys.openpgp.org runs Hagrid) that serves each key by fingerprint after LATENCY_MS; then
//   1. every key due at once (a burst of KEYS vks.refresh jobs), refreshed by the VKS sync worker's
//      handlers at CONCURRENCY with the rate limit out of the way: refreshes per second;
//   2. the same burst again with the limit at RATE_PER_MINUTE, for LIMITED_SECONDS: the requests the VKS
//      received per second, at most and on average, against the limit.
// Benchmarks/run-vks.sh prepares the world and the database and runs it.
//
//   VKSBenchmark KEYSTORE_URL VKS_URL KEYS_DIR KEYS CONCURRENCY LATENCY_MS RATE_PER_MINUTE LIMITED_SECONDS
import Core
import CoreTestSupport
import DNS
import Foundation
import HTTPFetch
import Hummingbird
import KeyDiscovery
import Keystore
import Logging
import OpenPGP
import ServiceLifecycle
import Synchronization
import VKSSync

let arguments = CommandLine.arguments
guard arguments.count == 9, let count = Int(arguments[4]), let concurrency = Int(arguments[5]), let latency = Int(arguments[6]),
      let ratePerMinute = Int(arguments[7]), let limitedSeconds = Int(arguments[8]) else {
    FileHandle.standardError.write(Data("usage: VKSBenchmark KEYSTORE_URL VKS_URL KEYS_DIR KEYS CONCURRENCY LATENCY_MS RATE_PER_MINUTE LIMITED_SECONDS\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .error)
let logger = Logger(label: "palisade.bench")
let world = try TestWorld.current()
func pool(_ url: String, _ connections: Int) -> PostgresPool {
    PostgresPool(configuration: PostgresConfiguration(conninfo: url, applicationName: "vks-bench", maxConnections: connections), logger: logger)
}
let keystorePool = pool(arguments[1], 4)
let vksPool = pool(arguments[2], concurrency + 4)
func seconds(since start: ContinuousClock.Instant) -> Double { (ContinuousClock.now - start).inSeconds }

// The keys, imported by one account, four callers at a time.
let account = try await keystorePool.query("SELECT id FROM accounts ORDER BY id LIMIT 1").first!.decode("id", as: Int64.self)
let keystore = AccountKeystore(pool: keystorePool, logger: logger)
let served = Mutex<[String: String]>([:])
var start = ContinuousClock.now
try await forEachIndex(count, callers: 4) { index in
    let key = Array(try Data(contentsOf: URL(fileURLWithPath: "\(arguments[3])/bench\(index).pgp")))
    let fingerprint = try await keystore.importCertificates(key, for: account, by: "bench")[0].fingerprint
    served.withLock { $0[fingerprint] = Armor.encode(key, as: .publicKey) }
}
print(String(format: "vks setup keys_imported=%d seconds=%.1f", count, seconds(since: start)))

// The VKS: each key by fingerprint after the added latency; every request's arrival recorded.
let keys = served.withLock { $0 }
let arrivals = Mutex<[ContinuousClock.Instant]>([])
let router = Router()
router.get("/vks/v1/by-fingerprint/:value") { _, context -> Response in
    arrivals.withLock { $0.append(.now) }
    try await Task.sleep(for: .milliseconds(latency))
    guard let armored = keys[context.parameters.get("value") ?? ""] else { return Response(status: .notFound) }
    return Response(status: .ok, headers: [.contentType: "application/pgp-keys"], body: ResponseBody(byteBuffer: ByteBuffer(string: armored)))
}
let (running, started) = AsyncStream<Void>.makeStream()
let vks = Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: world.vksBackendPort)),
                      onServerRunning: { _ in started.yield() }, logger: logger)
let server = Task { try await vks.runService(gracefulShutdownSignals: []) }
for await _ in running { break }

let resolver = try DNSResolver(
    configuration: DNSResolverConfiguration(trustAnchorFiles: [world.trustAnchorFile], stubZones: try world.stubZones.map(DNSStubZone.init(parsing:))),
    logger: logger)
let fetcher = try HTTPFetcher(configuration: HTTPFetchConfiguration(caFile: world.certificateAuthorityFile), resolver: resolver, logger: logger)
let client = VKSClient(fetcher: fetcher, configuration: KeyDiscoveryConfiguration(
    vksURL: URL(string: "https://keys.secure.palisade.example:\(world.httpsPort)")!, allowPrivateAddresses: true))
let schedule = VKSRefresher.Schedule(interval: .seconds(86_400), recentInterval: .seconds(21_600), recentUse: .seconds(604_800))

/// Queues every key's refresh at once, then runs the worker until the queue is empty or `limit` passes;
/// returns when it started, the seconds it ran and how many keys the VKS answered for in that time.
func burst(perMinute: Int, limit: Duration?) async throws -> (ContinuousClock.Instant, Double, Int) {
    try await vksPool.query("DELETE FROM jobs")
    _ = try await vksPool.transaction { connection in
        try await JobQueue.enqueue(batch: try keys.keys.map { try VKSRefreshJob.make(fingerprint: try Fingerprint($0)) }, on: connection)
    }
    let refresher = VKSRefresher(pool: vksPool, client: client, limiter: VKSRateLimiter(perMinute: perMinute), schedule: schedule, logger: logger)
    let jobs = JobQueue(pool: vksPool)
    let worker = JobWorker(queue: VKSRefreshJob.queue,
                           handlers: VKSSyncApplication.handlers(refresher, scheduleInterval: .seconds(300), requestsPerMinute: perMinute, logger: logger),
                           jobs: jobs, wakeups: nil,
                           options: .init(concurrency: concurrency, batchSize: concurrency, pollInterval: .milliseconds(20)), logger: logger)
    let since: Date = try await vksPool.query("SELECT now() AS at").first!.decode("at")
    let group = ServiceGroup(services: [worker], gracefulShutdownSignals: [], logger: logger)
    let start = ContinuousClock.now
    async let running: Void = group.run()
    while true {
        try await Task.sleep(for: .milliseconds(50))
        if let limit, ContinuousClock.now - start >= limit { break }
        let left = try await vksPool.query("SELECT count(*)::bigint AS n FROM jobs WHERE queue = 'vks'").first!.decode("n", as: Int64.self)
        if left == 0 { break }
    }
    let took = seconds(since: start)
    let answered = try await vksPool.query("SELECT count(*)::bigint AS n FROM key_vks_checks WHERE checked_at >= \(since)").first!.decode("n", as: Int64.self)
    await group.triggerGracefulShutdown()
    try await running
    return (start, took, Int(answered))
}

// 1. Throughput at the configured concurrency, the limit out of the way.
start = ContinuousClock.now
let (_, took, done) = try await burst(perMinute: 6_000_000, limit: nil)
let found = try await vksPool.query("SELECT count(*)::bigint AS n FROM key_vks_checks WHERE found").first!.decode("n", as: Int64.self)
print(String(format: "vks refresh burst keys=%d concurrency=%d latency_ms=%d seconds=%.1f refreshes_per_sec=%.0f found=%d",
             done, concurrency, latency, took, Double(done) / took, found))

// 2. The same burst under the limit, for a fixed time: what the VKS received.
arrivals.withLock { $0.removeAll() }
let (limitedStart, window, limitedDone) = try await burst(perMinute: ratePerMinute, limit: .seconds(limitedSeconds))
// Only what arrived within the window (the graceful shutdown after it lets running refreshes finish).
let seen = arrivals.withLock { $0 }.sorted().filter { $0 >= limitedStart && $0 < limitedStart + .seconds(limitedSeconds) }
var most = 0
var first = 0
for (index, arrival) in seen.enumerated() {
    while arrival - seen[first] >= .seconds(1) { first += 1 }
    most = max(most, index - first + 1)
}
print(String(format: "vks refresh limited burst=%d limit_per_sec=%.2f seconds=%.1f requests=%d mean_per_sec=%.2f max_in_any_second=%d answered=%d",
             keys.count, Double(ratePerMinute) / 60, window, seen.count, Double(seen.count) / window, most, limitedDone))
server.cancel()

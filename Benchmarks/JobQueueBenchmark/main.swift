// Job-queue benchmark: enqueue N no-op jobs, then drain them with 1 and with 4 workers (separate pools,
// as separate processes would have), and print throughput and claim-latency percentiles.
//
//   JobQueueBenchmark ADMIN_URL [JOBS] [WORKER_COUNTS] [BATCH]
//
// ADMIN_URL is a superuser URL; the benchmark creates and drops a database of its own.
// KEEP_COMPLETED=1 in the environment records completed jobs in job_history (jobs.keepCompleted).
// Output lines are `key=value` so Benchmarks/run-jobqueue.sh can compare them with other queues.
import Core
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: JobQueueBenchmark ADMIN_URL [JOBS] [WORKER_COUNTS e.g. 1,4] [BATCH]\n".utf8))
    exit(64)
}
let adminURL = arguments[1]
let jobCount = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
let workerCounts = arguments.count > 3 ? arguments[3].split(separator: ",").compactMap { Int($0) } : [1, 4]
let batch = arguments.count > 4 ? Int(arguments[4]) ?? 100 : 100

LogFormatting.bootstrap(format: .text, level: .warning)
let recorder = ClaimLatencyRecorder()
MetricsSystem.bootstrap(recorder)
let logger = Logger(label: "palisade.bench")

let database = "palisade_bench_\(getpid())"
let admin = PostgresPool(configuration: PostgresConfiguration(conninfo: adminURL, maxConnections: 1), logger: logger)
try await admin.query(PostgresQuery(sql: "DROP DATABASE IF EXISTS \(database)"))
try await admin.query(PostgresQuery(sql: "CREATE DATABASE \(database)"))
let url = adminURL.replacingOccurrences(of: "/postgres", with: "/\(database)")
let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: url, maxConnections: 4), logger: logger)
try await Migrator(pool: pool, migrations: Migration.load(from: "Schemas"), logger: logger).migrate()
let keepCompleted = ProcessInfo.processInfo.environment["KEEP_COMPLETED"] == "1"
let queue = JobQueue(pool: pool, keepCompleted: keepCompleted)

for workers in workerCounts {
    try await pool.query("TRUNCATE jobs, job_history")
    try await pool.query("VACUUM ANALYZE jobs")
    let enqueueStart = ContinuousClock.now
    for offset in stride(from: 0, to: jobCount, by: 1000) {
        try await queue.enqueue(batch: (offset..<min(offset + 1000, jobCount)).map { _ in NewJob(kind: "noop", queue: "bench") })
    }
    let enqueueSeconds = (ContinuousClock.now - enqueueStart).seconds
    print(String(format: "palisade enqueue workers=%d jobs=%d jobs_per_sec=%.0f", workers, jobCount, Double(jobCount) / enqueueSeconds))

    recorder.reset()
    let handled = Atomic<Int>(0)
    let (allRan, allRanSignal) = AsyncStream.makeStream(of: Void.self)
    var services: [any Service] = []
    var pools: [PostgresPool] = []
    for _ in 0..<workers {
        let workerPool = PostgresPool(configuration: PostgresConfiguration(conninfo: url, maxConnections: 2), logger: logger)
        pools.append(workerPool)
        let wakeups = JobWakeups(configuration: PostgresConfiguration(conninfo: url), logger: logger)
        services += [wakeups, JobWorker(
            queue: "bench",
            handlers: ["noop": { _ in
                if handled.add(1, ordering: .relaxed).newValue == jobCount { allRanSignal.finish() }
            }],
            jobs: JobQueue(pool: workerPool, keepCompleted: keepCompleted), wakeups: wakeups,
            options: .init(concurrency: 2 * batch, batchSize: batch, lease: .seconds(60), pollInterval: .seconds(1)),
            logger: logger
        )]
    }
    let group = ServiceGroup(services: services, logger: logger)
    let start = ContinuousClock.now
    let elapsed = try await withThrowingTaskGroup(of: Duration?.self) { tasks in
        tasks.addTask { try await group.run(); return nil }
        tasks.addTask {
            // Done when every job has run and then left the hot table (its completion is written). The
            // table is only polled after the last handler ran, so polling does not load the server.
            for await _ in allRan {}
            while try await pool.query("SELECT count(*) AS n FROM jobs").first!.decode("n", as: Int.self) > 0 {
                try await Task.sleep(for: .milliseconds(1))
            }
            return ContinuousClock.now - start
        }
        let elapsed = try await tasks.next()!!
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return elapsed
    }
    pools.forEach { $0.close() }
    let failed = try await pool.query("SELECT count(*) AS n FROM job_history WHERE state <> 'completed'").first!.decode("n", as: Int.self)
    guard failed == 0, handled.load(ordering: .relaxed) >= jobCount else {
        FileHandle.standardError.write(Data("benchmark error: \(handled.load(ordering: .relaxed)) of \(jobCount) jobs ran, \(failed) failed\n".utf8))
        exit(1)
    }
    let latencies = recorder.sorted()
    func percentile(_ p: Double) -> Double {
        latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] / 1e6
    }
    print(String(format: "palisade drain keep_completed=%d workers=%d batch=%d jobs=%d seconds=%.2f jobs_per_sec=%.0f claims=%d claim_ms_p50=%.2f claim_ms_p90=%.2f claim_ms_p99=%.2f",
                 keepCompleted ? 1 : 0, workers, batch, jobCount, elapsed.seconds, Double(jobCount) / elapsed.seconds, latencies.count,
                 percentile(0.5), percentile(0.9), percentile(0.99)))
}
pool.close()
try await admin.query(PostgresQuery(sql: "DROP DATABASE IF EXISTS \(database)"))
admin.close()

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

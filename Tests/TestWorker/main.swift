// A job worker in a process of its own, for the integration tests that kill workers with SIGKILL.
//
//   palisade-test-worker URL QUEUE LEASE_SECONDS
//
// Handlers: `track` records each run and flags any overlap with another run of the same job;
// `hang-first` records its run and never returns on its first attempt.
import Core
import CoreTestSupport
import Foundation
import Logging

let arguments = CommandLine.arguments
guard arguments.count == 4, let leaseSeconds = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: palisade-test-worker URL QUEUE LEASE_SECONDS\n".utf8))
    exit(64)
}
LogFormatting.bootstrap(format: .text, level: .notice)
let logger = Logger(label: "palisade.test-worker")
let configuration = PostgresConfiguration(conninfo: arguments[1], applicationName: "test-worker", maxConnections: 4)
let pool = PostgresPool(configuration: configuration, logger: logger)
let owner = "pid-\(getpid())"
let wakeups = JobWakeups(configuration: configuration, logger: logger)
let worker = JobWorker(
    queue: arguments[2],
    handlers: [
        "track": { job in try await TestHandlers.track(job, pool: pool, owner: owner) },
        "hang-first": { job in
            try await pool.query("INSERT INTO test_runs (job_id, owner, attempt) VALUES (\(job.id), \(owner), \(job.attempt))")
            if job.attempt == 1 { try await Task.sleep(for: .seconds(86_400)) }
        },
    ],
    jobs: JobQueue(pool: pool, keepCompleted: true),
    wakeups: wakeups,
    options: .init(concurrency: 4, batchSize: 4, lease: .seconds(leaseSeconds), pollInterval: .milliseconds(200)),
    logger: logger
)
FileHandle.standardOutput.write(Data("ready\n".utf8))
try await PalisadeServiceGroup(services: [wakeups, worker], logger: logger).run()

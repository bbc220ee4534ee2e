import Core
import CoreTestSupport
import Foundation
import Logging
import ServiceLifecycle
import Testing

@Suite("Job workers")
struct JobWorkerTests {
    static let trackingTables = """
        CREATE TABLE test_active (job_id bigint PRIMARY KEY);
        CREATE TABLE test_runs (job_id bigint NOT NULL, owner text NOT NULL, attempt int NOT NULL);
        CREATE TABLE test_overlaps (job_id bigint NOT NULL);
        GRANT ALL ON test_active, test_runs, test_overlaps TO PUBLIC;
        """

    @Test("four workers in separate pools run 400 jobs, each exactly once and never twice at the same time")
    func concurrentWorkersNeverOverlap() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        try await db.pool.withConnection { try await $0.execute(script: Self.trackingTables) }
        let jobs = JobQueue(pool: db.pool)
        try await jobs.enqueue(batch: (0..<400).map { _ in NewJob(kind: "track", queue: "q") })

        var services: [any Service] = []
        var pools: [PostgresPool] = []
        for index in 0..<4 {
            let pool = db.anotherPool(maxConnections: 6, label: "worker-\(index)")
            pools.append(pool)
            let configuration = PostgresConfiguration(conninfo: db.url)
            let wakeups = JobWakeups(configuration: configuration, logger: db.logger)
            let owner = "worker-\(index)"
            let worker = JobWorker(
                queue: "q", handlers: ["track": { try await TestHandlers.track($0, pool: pool, owner: owner) }],
                jobs: JobQueue(pool: pool, keepCompleted: true), wakeups: wakeups,
                options: .init(concurrency: 8, batchSize: 10, lease: .seconds(30), pollInterval: .milliseconds(100)),
                logger: db.logger
            )
            services += [wakeups, worker]
        }
        defer { pools.forEach { $0.close() } }
        try await db.run(services, until: "all 400 jobs completed") {
                try await db.count("SELECT count(*) FROM job_history WHERE state = 'completed'") == 400
            }
        #expect(try await db.count("SELECT count(*) FROM test_overlaps") == 0)
        #expect(try await db.count("SELECT count(*) FROM test_runs") == 400)
        #expect(try await db.count("SELECT count(DISTINCT job_id) FROM test_runs") == 400)
        #expect(try await db.count("SELECT count(*) FROM jobs") == 0)
    }

    @Test("a worker killed with SIGKILL mid-job loses nothing: the job runs again after its lease")
    func killedWorkerJobIsTakenOver() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        try await db.pool.withConnection { try await $0.execute(script: Self.trackingTables) }
        guard case .enqueued(let id) = try await JobQueue(pool: db.pool).enqueue(NewJob(kind: "hang-first", queue: "kill")) else { return }

        let victim = try startWorkerProcess(url: db.url, queue: "kill", leaseSeconds: 2)
        try await db.eventually("the first worker started the job") {
            try await db.count("SELECT count(*) FROM test_runs") == 1
        }
        kill(victim.processIdentifier, SIGKILL)
        await ChildProcess.waitForExit(victim)
        #expect(victim.terminationReason == .uncaughtSignal)

        let rescuer = try startWorkerProcess(url: db.url, queue: "kill", leaseSeconds: 2)
        defer { rescuer.terminate() }
        try await db.eventually("the job completed on its second attempt") {
            try await JobQueue(pool: db.pool).show(id: id)?.state == "completed"
        }
        let record = try #require(try await JobQueue(pool: db.pool).show(id: id))
        #expect(record.attempts == 2)
        #expect(try await db.count("SELECT count(DISTINCT owner) FROM test_runs") == 2)
    }

    @Test("graceful shutdown releases an unfinished job without counting the attempt")
    func gracefulShutdownReleases() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        try await db.pool.withConnection { try await $0.execute(script: Self.trackingTables) }
        let jobs = JobQueue(pool: db.pool)
        guard case .enqueued(let id) = try await jobs.enqueue(NewJob(kind: "hang", queue: "g")) else { return }
        let worker = JobWorker(
            queue: "g",
            handlers: ["hang": { job in
                try await db.pool.query("INSERT INTO test_runs (job_id, owner, attempt) VALUES (\(job.id), 'w', \(job.attempt))")
                try await Task.sleep(for: .seconds(86_400))
            }],
            jobs: jobs, wakeups: nil,
            options: .init(concurrency: 1, batchSize: 1, lease: .seconds(30), pollInterval: .milliseconds(100), shutdownGrace: .milliseconds(100)),
            logger: db.logger
        )
        try await db.run([worker], until: "the job is running") { try await db.count("SELECT count(*) FROM test_runs") == 1 }
        let record = try #require(try await jobs.show(id: id))
        #expect(record.state == "ready")
        #expect(record.attempts == 0)
    }

    @Test("a failing handler's job is retried with back-off, then kept as failed with its error")
    func failingHandler() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let jobs = JobQueue(pool: db.pool)
        guard case .enqueued(let id) = try await jobs.enqueue(NewJob(kind: "broken", queue: "f", maxAttempts: 3)) else { return }
        let worker = JobWorker(
            queue: "f",
            handlers: ["broken": { job in throw JobFailure("key server said 503 on attempt \(job.attempt)") }],
            jobs: jobs, wakeups: nil,
            options: .init(concurrency: 1, batchSize: 1, lease: .seconds(30), pollInterval: .milliseconds(50),
                           retry: RetryPolicy(base: .milliseconds(10), maximum: .milliseconds(40))),
            logger: db.logger
        )
        try await db.run([worker], until: "the job failed for good") { try await jobs.show(id: id)?.state == "failed" }
        let record = try #require(try await jobs.show(id: id))
        #expect(record.attempts == 3)
        #expect(record.lastError == "key server said 503 on attempt 3")
    }

    private func startWorkerProcess(url: String, queue: String, leaseSeconds: Int) throws -> Process {
        let binary = TestDatabase.repositoryRoot.appendingPathComponent(".build/debug/palisade-test-worker")
        let process = Process()
        process.executableURL = binary
        process.arguments = [url, queue, String(leaseSeconds)]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The worker prints "ready" once its pool and worker exist.
        let line = output.fileHandleForReading.availableData
        guard String(decoding: line, as: UTF8.self).contains("ready") else {
            throw TestSetupError("palisade-test-worker did not start")
        }
        return process
    }
}

@Suite("Job workers and hung handlers")
struct HungHandlerTests {
    @Test("a handler running past maxRunTime is cancelled, and its job fails or runs again instead of hanging")
    func maxRunTime() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let jobs = JobQueue(pool: db.pool)
        guard case .enqueued(let id) = try await jobs.enqueue(NewJob(kind: "hang", queue: "m", maxAttempts: 1)) else { return }
        let worker = JobWorker(
            queue: "m",
            handlers: ["hang": { _ in try await Task.sleep(for: .seconds(86_400)) }],
            jobs: jobs, wakeups: nil,
            options: .init(concurrency: 1, batchSize: 1, lease: .seconds(3), pollInterval: .milliseconds(100), maxRunTime: .seconds(1)),
            logger: db.logger
        )
        try await db.run([worker], until: "the hung job failed for good") { try await jobs.show(id: id)?.state == "failed" }
        // Failed by the cancelled handler, or by the lease it left to expire when the take-over got there first
        // (seen on a loaded machine): either way a reason naming what stopped it, never a hang.
        let reason = try await jobs.show(id: id)?.lastError ?? ""
        #expect(reason.contains("CancellationError") || reason.contains("lease expired on its last attempt"), "\(reason)")
    }
}

import Core
import CoreTestSupport
import Foundation
import Testing

@Suite("Job queue")
struct JobQueueTests {
    @Test("a unique key refuses a duplicate active job, and frees up once the job is done")
    func uniqueKey() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        let job = NewJob(kind: "wkd.refresh", payload: #"{"address":"a@example.org"}"#, queue: "wkd", uniqueKey: "wkd.refresh:a@example.org")
        guard case .enqueued = try await queue.enqueue(job) else { Issue.record("first enqueue refused"); return }
        #expect(try await queue.enqueue(job) == .duplicate)
        let claimed = try await queue.claim(queue: "wkd", kinds: ["wkd.refresh"], limit: 10, owner: "t", lease: .seconds(30))
        #expect(claimed.count == 1)
        #expect(try await queue.complete(leases: claimed.map(\.leaseID)) == 1)
        guard case .enqueued = try await queue.enqueue(job) else { Issue.record("key not freed after completion"); return }
    }

    @Test("the key enqueued again while its job runs makes the job run once more afterwards, never twice at once")
    func rerunWhileRunning() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        for keep in [false, true] {
            let queue = JobQueue(pool: db.pool, keepCompleted: keep)
            let job = NewJob(kind: "wkd.refresh", payload: #"{"address":"b@example.org"}"#, queue: "rerun\(keep)", uniqueKey: "rerun\(keep):b")
            guard case .enqueued(let id) = try await queue.enqueue(job) else { Issue.record("first enqueue refused"); return }
            let first = try await queue.claim(queue: "rerun\(keep)", kinds: ["wkd.refresh"], limit: 10, owner: "t", lease: .seconds(30))
            #expect(first.map(\.id) == [id])
            // Twice while it runs: one more run, not two; and no second job that could run alongside.
            #expect(try await queue.enqueue(job) == .duplicate)
            #expect(try await queue.enqueue(batch: [job, job]) == 0)
            #expect(try await queue.claim(queue: "rerun\(keep)", kinds: ["wkd.refresh"], limit: 10, owner: "t", lease: .seconds(30)).isEmpty)
            #expect(try await queue.complete(leases: first.map(\.leaseID)) == 1)
            let second = try await queue.claim(queue: "rerun\(keep)", kinds: ["wkd.refresh"], limit: 10, owner: "t", lease: .seconds(30))
            #expect(second.map(\.id) == [id] && second.first?.attempt == 1)
            #expect(try await queue.complete(leases: second.map(\.leaseID)) == 1)
            #expect(try await db.count("SELECT count(*) FROM jobs WHERE queue = 'rerun\(keep)'") == 0)
            // A ready job already covers a new request: nothing is marked.
            guard case .enqueued = try await queue.enqueue(job) else { Issue.record("key not freed"); return }
            #expect(try await queue.enqueue(job) == .duplicate)
            #expect(try await db.count("SELECT count(*) FROM jobs WHERE queue = 'rerun\(keep)' AND rerun") == 0)
        }
    }

    @Test("a job asked to run again fails for good only for its own attempts: the new request starts afresh")
    func rerunAfterLastAttemptFailed() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        let job = NewJob(kind: "k", queue: "last", maxAttempts: 1, uniqueKey: "last:1")
        guard case .enqueued(let id) = try await queue.enqueue(job) else { Issue.record("enqueue refused"); return }
        let claimed = try #require(try await queue.claim(queue: "last", kinds: ["k"], limit: 1, owner: "t", lease: .seconds(30)).first)
        #expect(try await queue.enqueue(job) == .duplicate)
        #expect(try await queue.fail(claimed, error: "boom", retryAfter: .zero))
        #expect(try await db.count("SELECT count(*) FROM jobs WHERE id = \(id) AND state = 'ready' AND attempts = 0 AND NOT rerun") == 1)
        #expect(try await db.count("SELECT count(*) FROM job_history WHERE id = \(id)") == 0)
        let again = try #require(try await queue.claim(queue: "last", kinds: ["k"], limit: 1, owner: "t", lease: .seconds(30)).first)
        #expect(try await queue.fail(again, error: "boom again", retryAfter: .zero))
        #expect(try await db.count("SELECT count(*) FROM job_history WHERE id = \(id) AND state = 'failed'") == 1)
    }

    @Test("completed jobs leave the hot table; the history keeps them only when asked to")
    func completedHistoryPolicy() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        for keep in [false, true] {
            let queue = JobQueue(pool: db.pool, keepCompleted: keep)
            try await queue.enqueue(batch: (0..<3).map { _ in NewJob(kind: "k", queue: "h\(keep)") })
            let claimed = try await queue.claim(queue: "h\(keep)", kinds: ["k"], limit: 2, owner: "t", lease: .seconds(30))
            #expect(try await queue.complete(leases: claimed.map(\.leaseID)) == 2)
            let next = try await queue.claim(queue: "h\(keep)", kinds: ["k"], limit: 5, owner: "t", lease: .seconds(30))
            #expect(next.count == 1)
            #expect(try await queue.complete(leases: next.map(\.leaseID)) == 1)
            #expect(try await db.count("SELECT count(*) FROM jobs WHERE queue = 'h\(keep)'") == 0)
            #expect(try await db.count("SELECT count(*) FROM job_history WHERE queue = 'h\(keep)' AND state = 'completed'") == (keep ? 3 : 0))
        }
    }

    @Test("enqueue joins the caller's transaction: a rollback leaves no job")
    func enqueueInTransaction() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await db.pool.transaction { connection in
                try await JobQueue.enqueue(NewJob(kind: "k"), on: connection)
                throw Abort()
            }
        }
        #expect(try await db.count("SELECT count(*) FROM jobs") == 0)
    }

    @Test("claims go by priority, skip jobs not yet due and kinds the worker does not handle")
    func claimOrder() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        try await queue.enqueue(NewJob(kind: "a", payload: #"{"n":1}"#, queue: "q", priority: 0))
        try await queue.enqueue(NewJob(kind: "a", payload: #"{"n":2}"#, queue: "q", priority: 5))
        try await queue.enqueue(NewJob(kind: "a", payload: #"{"n":3}"#, queue: "q", priority: 9, runAt: Date().addingTimeInterval(3600)))
        try await queue.enqueue(NewJob(kind: "b", payload: #"{"n":4}"#, queue: "q", priority: 9))
        try await queue.enqueue(NewJob(kind: "a", payload: #"{"n":5}"#, queue: "other", priority: 9))
        let claimed = try await queue.claim(queue: "q", kinds: ["a"], limit: 10, owner: "t", lease: .seconds(30))
        struct N: Decodable { let n: Int }
        #expect(try claimed.map { try $0.decodePayload(as: N.self).n } == [2, 1])
        #expect(claimed.allSatisfy { $0.attempt == 1 })
    }

    @Test("a failed attempt backs off exponentially; the last one moves the job to the history as failed")
    func failureBacksOff() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        let policy = RetryPolicy(base: .seconds(100), maximum: .seconds(10_000))
        try await queue.enqueue(NewJob(kind: "k", queue: "q", maxAttempts: 3))
        var delays: [Double] = []
        for attempt in 1...3 {
            // Make the job due again without waiting for its back-off.
            try await db.pool.query("UPDATE jobs SET run_at = now()")
            let job = try #require(try await queue.claim(queue: "q", kinds: ["k"], limit: 1, owner: "t", lease: .seconds(30)).first)
            #expect(job.attempt == attempt)
            let delay = policy.delay(afterAttempt: attempt)
            #expect(try await queue.fail(job, error: "boom \(attempt)", retryAfter: delay))
            if attempt < 3 {
                delays.append(try await db.pool.query("SELECT extract(epoch FROM run_at - now())::float8 AS s FROM jobs").first!.decode("s"))
            }
        }
        // Attempt 1 waits 50–100 s, attempt 2 waits 100–200 s (jitter keeps at least half).
        #expect(delays[0] > 49 && delays[0] <= 100)
        #expect(delays[1] > 99 && delays[1] <= 200)
        #expect(try await db.count("SELECT count(*) FROM jobs") == 0)
        let failed = try #require(try await queue.list(state: "failed").first)
        #expect(failed.attempts == 3)
        #expect(failed.lastError == "boom 3")
        // The operator can put it back with fresh attempts.
        try await queue.retry(id: failed.id)
        #expect(try await queue.show(id: failed.id)?.state == "ready")
        #expect(try await queue.show(id: failed.id)?.attempts == 0)
    }

    @Test("cancelling moves an active job to the history; a finished one cannot be cancelled")
    func cancel() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        guard case .enqueued(let id) = try await queue.enqueue(NewJob(kind: "k", queue: "q")) else { return }
        try await queue.cancel(id: id)
        #expect(try await queue.show(id: id)?.state == "cancelled")
        await #expect(throws: JobQueue.OperatorRefusal.alreadyFinished(id, state: "cancelled")) { try await queue.cancel(id: id) }
        await #expect(throws: JobQueue.OperatorRefusal.notFound(999_999)) { try await queue.cancel(id: 999_999) }
    }

    @Test("an expired lease is taken over; the old holder can no longer complete the job")
    func expiredLeaseTakenOver() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        try await queue.enqueue(NewJob(kind: "k", queue: "q"))
        let first = try #require(try await queue.claim(queue: "q", kinds: ["k"], limit: 1, owner: "dead", lease: .seconds(30)).first)
        try await db.pool.query("UPDATE jobs SET lease_expires_at = now() - interval '1 second'")
        #expect(try await queue.recoverExpiredLeases() == (1, 0))
        let second = try #require(try await queue.claim(queue: "q", kinds: ["k"], limit: 1, owner: "alive", lease: .seconds(30)).first)
        #expect(second.attempt == 2)
        #expect(try await queue.complete(leases: [first.leaseID]) == 0)
        #expect(try await queue.complete(leases: [second.leaseID]) == 1)
    }

    @Test("the scheduler enqueues each slot once however many instances tick")
    func schedulerOncePerSlot() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let schedule = RecurringJob(name: "refresh-all", every: .seconds(3600), job: NewJob(kind: "refresh", queue: "q"))
        let schedulers = (0..<4).map { _ in JobScheduler(schedules: [schedule], pool: db.pool, logger: db.logger) }
        let won = try await withThrowingTaskGroup(of: [String].self) { group in
            for scheduler in schedulers { group.addTask { try await scheduler.tick() } }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(won == ["refresh-all"])
        #expect(try await db.count("SELECT count(*) FROM jobs WHERE kind = 'refresh'") == 1)
    }

    @Test("statistics count ready, scheduled, running and failed jobs per queue")
    func statistics() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let queue = JobQueue(pool: db.pool)
        try await queue.enqueue(batch: (0..<5).map { _ in NewJob(kind: "k", queue: "a") })
        try await queue.enqueue(NewJob(kind: "k", queue: "a", runAt: Date().addingTimeInterval(600)))
        _ = try await queue.claim(queue: "a", kinds: ["k"], limit: 2, owner: "t", lease: .seconds(30))
        let stats = try #require(try await queue.statistics().first { $0.queue == "a" })
        #expect(stats.ready == 3)
        #expect(stats.scheduled == 1)
        #expect(stats.running == 2)
    }
}

@Suite("Job queue edge cases")
struct JobQueueEdgeCaseTests {
    @Test("changing a recurring job's interval never strands it behind an unreachable slot")
    func schedulerIntervalChange() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let hourly = RecurringJob(name: "r", every: .seconds(3600), job: NewJob(kind: "refresh", queue: "q"))
        #expect(try await JobScheduler(schedules: [hourly], pool: db.pool, logger: db.logger).tick() == ["r"])
        try await db.pool.query("DELETE FROM jobs")
        // Pretend the last run was a week ago, then switch to a daily interval: the next tick must enqueue.
        try await db.pool.query("UPDATE job_schedules SET last_slot = last_slot - 7 * 86400")
        let daily = RecurringJob(name: "r", every: .seconds(86_400), job: NewJob(kind: "refresh", queue: "q"))
        #expect(try await JobScheduler(schedules: [daily], pool: db.pool, logger: db.logger).tick() == ["r"])
        #expect(try await JobScheduler(schedules: [daily], pool: db.pool, logger: db.logger).tick() == [])
    }

    @Test("a service role may prune the history it writes")
    func servicesCanPrune() async throws {
        let db = try await TestDatabase.create()
        defer { db.pool.close() }
        let pool = PostgresPool(configuration: PostgresConfiguration(conninfo: db.url + "?user=palisade_wkd", maxConnections: 1), logger: db.logger)
        defer { pool.close() }
        let queue = JobQueue(pool: pool, keepCompleted: true)
        try await queue.enqueue(NewJob(kind: "k", queue: "q"))
        let claimed = try await queue.claim(queue: "q", kinds: ["k"], limit: 1, owner: "t", lease: .seconds(30))
        try await queue.complete(leases: claimed.map(\.leaseID))
        try await db.pool.query("UPDATE job_history SET finished_at = now() - interval '2 days'")
        #expect(try await queue.pruneHistory(olderThan: .seconds(86_400)) == 1)
    }
}

import Foundation

/// The job table's operations: enqueue, claim, renew, complete, fail, and the operator's verbs.
///
/// Every method is one SQL statement (or one short transaction), parameterised, and safe to run from many
/// processes at once: claims use `FOR UPDATE SKIP LOCKED`, and completing or failing a job checks the
/// claim's lease ID so a worker that lost its lease changes nothing.
public struct JobQueue: Sendable {
    public let pool: PostgresPool
    /// Whether completed jobs are recorded in `job_history` (`jobs.keepCompleted`). Failed and cancelled
    /// jobs always are. Off, a completed job is simply deleted: counted by the metrics, not kept.
    public let keepCompleted: Bool

    public init(pool: PostgresPool, keepCompleted: Bool = false) {
        self.pool = pool
        self.keepCompleted = keepCompleted
    }

    /// A queue whose completed-job policy comes from `jobs.keepCompleted`.
    public init(pool: PostgresPool, _ config: PalisadeConfiguration) {
        self.init(pool: pool, keepCompleted: JobSettings.keepCompleted.read(config))
    }

    // MARK: - Enqueue

    /// Queues a job inside the caller's transaction, so the job exists exactly when the change causing it
    /// commits. Workers are woken by NOTIFY at commit.
    ///
    /// A unique key already held by a ready job adds nothing (that job will see the change). Held by a
    /// running job, it marks that job to run once more when it completes: its handler may have read the
    /// data before this change.
    @discardableResult
    public static func enqueue(_ job: NewJob, on connection: PostgresConnection) async throws -> EnqueueResult {
        let rows = try await connection.query("""
            INSERT INTO jobs (queue, kind, payload, priority, run_at, max_attempts, unique_key)
            VALUES (\(job.queue), \(job.kind), \(job.payload)::jsonb, \(job.priority),
                    coalesce(\(job.runAt)::timestamptz, now()), \(job.maxAttempts), \(job.uniqueKey))
            \(unescaped: Self.onUniqueKeyConflict)
            RETURNING id, xmax = 0 AS inserted
            """)
        guard let row = rows.first, try row.decode("inserted", as: Bool.self) else { return .duplicate }
        return .enqueued(id: try row.decode("id"))
    }

    /// The rule above: a running holder of the key is marked to run again; a ready one is left alone.
    static let onUniqueKeyConflict = """
        ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO UPDATE SET rerun = true WHERE jobs.state = 'running'
        """

    /// Queues a job in its own transaction.
    @discardableResult
    public func enqueue(_ job: NewJob) async throws -> EnqueueResult {
        try await pool.transaction { try await Self.enqueue(job, on: $0) }
    }

    /// Queues many jobs in one statement; duplicates of active unique keys are skipped. Returns how many
    /// were added.
    @discardableResult
    public static func enqueue(batch: [NewJob], on connection: PostgresConnection) async throws -> Int {
        // One statement may not update a row twice: a key repeated within the batch is queued once.
        var seen = Set<String>()
        let jobs = batch.filter { job in job.uniqueKey.map { seen.insert($0).inserted } ?? true }
        guard !jobs.isEmpty else { return 0 }
        let rows = try await connection.query("""
            INSERT INTO jobs (queue, kind, payload, priority, run_at, max_attempts, unique_key)
            SELECT q, k, p::jsonb, pr, coalesce(r, now()), m, u
            FROM unnest(\(PostgresArray(jobs.map(\.queue)))::text[], \(PostgresArray(jobs.map(\.kind)))::text[],
                        \(PostgresArray(jobs.map(\.payload)))::text[], \(PostgresArray(jobs.map(\.priority)))::smallint[],
                        \(PostgresArray(optionals: jobs.map(\.runAt)))::timestamptz[], \(PostgresArray(jobs.map(\.maxAttempts)))::int[],
                        \(PostgresArray(optionals: jobs.map(\.uniqueKey)))::text[]) AS t(q, k, p, pr, r, m, u)
            \(unescaped: Self.onUniqueKeyConflict)
            RETURNING xmax = 0 AS inserted
            """)
        return try rows.filter { try $0.decode("inserted", as: Bool.self) }.count
    }

    @discardableResult
    public func enqueue(batch jobs: [NewJob]) async throws -> Int {
        try await pool.transaction { try await Self.enqueue(batch: jobs, on: $0) }
    }

    // MARK: - Workers

    /// Leases up to `limit` due jobs of `queue` whose kind is in `kinds`, highest priority first.
    ///
    /// Completing finished jobs stays a statement of its own: folded into this one, two workers' claims
    /// can deadlock (a SKIP LOCKED scan may keep a lock on a row another worker is deleting).
    ///
    /// Not retried on a lost connection: if the claim committed unseen, those jobs would sit leased to
    /// nobody; a failed claim is simply made again at the worker's next wake-up.
    public func claim(queue: String, kinds: [String], limit: Int, owner: String, lease: Duration) async throws -> [ClaimedJob] {
        let rows = try await pool.withConnection { try await $0.query("""
            WITH next AS (
                SELECT id FROM jobs
                WHERE queue = \(queue) AND state = 'ready' AND run_at <= now() AND kind = ANY(\(PostgresArray(kinds))::text[])
                ORDER BY priority DESC, run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, lease_id = gen_random_uuid(),
                            lease_owner = \(owner), lease_expires_at = now() + \(Self.seconds(lease)) * interval '1 second'
            FROM next WHERE jobs.id = next.id
            RETURNING jobs.id, jobs.queue, jobs.kind, jobs.payload::text AS payload, jobs.priority, jobs.attempts,
                      jobs.max_attempts, jobs.run_at, jobs.created_at, jobs.lease_id
            """) }
        return try rows.map(ClaimedJob.init(row:)).sorted { a, b in
            a.priority != b.priority ? a.priority > b.priority : (a.runAt, a.id) < (b.runAt, b.id)
        }
    }

    /// Extends the leases still held; returns the lease IDs that were renewed. A missing one was cancelled
    /// by an operator or taken over after expiring: its handler should stop.
    public func renew(leases: [UUID], lease: Duration) async throws -> Set<UUID> {
        guard !leases.isEmpty else { return [] }
        let rows = try await pool.query("""
            UPDATE jobs SET lease_expires_at = now() + \(Self.seconds(lease)) * interval '1 second'
            WHERE lease_id = ANY(\(PostgresArray(leases))::uuid[])
            RETURNING lease_id
            """)
        return Set(try rows.map { try $0.decode("lease_id", as: UUID.self) })
    }

    /// Removes finished jobs from the hot table (into the history when `keepCompleted`), or puts those
    /// marked to run again back as ready; returns how many were still held.
    @discardableResult
    public func complete(leases: [UUID]) async throws -> Int {
        guard !leases.isEmpty else { return 0 }
        // A job marked to run again goes back to ready (and wakes a worker) instead of finishing.
        let again = """
            WITH again AS (
                UPDATE jobs SET state = 'ready', rerun = false, attempts = 0, run_at = now(), lease_id = NULL,
                                lease_owner = NULL, lease_expires_at = NULL, last_error = NULL
                WHERE lease_id = ANY($1::uuid[]) AND rerun
                RETURNING pg_notify('palisade_jobs', queue)
            )
            """
        let leaseArray = PostgresArray(leases).postgresText
        guard keepCompleted else {
            return try await pool.query(PostgresQuery(sql: again + """
                , done AS (DELETE FROM jobs WHERE lease_id = ANY($1::uuid[]) AND NOT rerun RETURNING 1)
                SELECT (SELECT count(*) FROM again) + (SELECT count(*) FROM done) AS held
                """, parameters: [leaseArray])).first!.decode("held")
        }
        return try await pool.query(PostgresQuery(sql: again + """
            , done AS (
                DELETE FROM jobs WHERE lease_id = ANY($1::uuid[]) AND NOT rerun
                RETURNING id, queue, kind, payload, priority, attempts, max_attempts, unique_key, last_error, created_at
            ), kept AS (
                INSERT INTO job_history (id, queue, kind, payload, priority, state, attempts, max_attempts, unique_key, last_error, created_at)
                SELECT id, queue, kind, payload, priority, 'completed', attempts, max_attempts, unique_key, last_error, created_at FROM done
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM again) + (SELECT count(*) FROM kept) AS held
            """, parameters: [leaseArray])).first!.decode("held")
    }

    /// Records a failed attempt: the job runs again after `retryAfter`, or, when it has used its attempts
    /// (or `permanent` is set), moves to the history as failed with `error` for the operator.
    /// Returns false if the lease was no longer held.
    @discardableResult
    public func fail(_ job: ClaimedJob, error: String, retryAfter: Duration, permanent: Bool = false) async throws -> Bool {
        let message = String(error.prefix(2000))
        if permanent || job.attempt >= job.maxAttempts {
            // Asked to run again since it was claimed: the new request gets fresh attempts.
            let renewed = try await pool.query("""
                UPDATE jobs SET state = 'ready', rerun = false, attempts = 0, run_at = now() + \(Self.seconds(retryAfter)) * interval '1 second',
                                lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, last_error = \(message)
                WHERE lease_id = \(job.leaseID) AND rerun
                """).affectedRows
            if renewed == 1 { return true }
            return try await pool.query("""
                WITH dead AS (
                    DELETE FROM jobs WHERE lease_id = \(job.leaseID)
                    RETURNING id, queue, kind, payload, priority, attempts, max_attempts, unique_key, created_at
                )
                INSERT INTO job_history (id, queue, kind, payload, priority, state, attempts, max_attempts, unique_key, last_error, created_at)
                SELECT id, queue, kind, payload, priority, 'failed', attempts, max_attempts, unique_key, \(message), created_at FROM dead
                """).affectedRows == 1
        }
        return try await pool.query("""
            UPDATE jobs SET state = 'ready', rerun = false, run_at = now() + \(Self.seconds(retryAfter)) * interval '1 second',
                            lease_id = NULL, lease_owner = NULL, lease_expires_at = NULL, last_error = \(message)
            WHERE lease_id = \(job.leaseID)
            """).affectedRows == 1
    }

    /// Gives a job back to run after `delay` without counting the attempt (it was told to wait, e.g. by a
    /// server's `Retry-After`). Returns false if the lease was no longer held.
    @discardableResult
    public func postpone(_ job: ClaimedJob, reason: String, for delay: Duration) async throws -> Bool {
        try await pool.query("""
            UPDATE jobs SET state = 'ready', rerun = false, attempts = greatest(attempts - 1, 0),
                            run_at = now() + \(Self.seconds(delay)) * interval '1 second', lease_id = NULL, lease_owner = NULL,
                            lease_expires_at = NULL, last_error = \(String(reason.prefix(2000)))
            WHERE lease_id = \(job.leaseID)
            """).affectedRows == 1
    }

    /// Gives jobs back without counting the attempt (graceful shutdown before they could finish).
    public func release(leases: [UUID]) async throws {
        guard !leases.isEmpty else { return }
        try await pool.query("""
            UPDATE jobs SET state = 'ready', rerun = false, attempts = greatest(attempts - 1, 0), lease_id = NULL, lease_owner = NULL,
                            lease_expires_at = NULL
            WHERE lease_id = ANY(\(PostgresArray(leases))::uuid[])
            """)
    }

    /// Takes back jobs whose lease expired because their worker died or hung: they run again now, or fail
    /// for good if that was their last attempt. Returns (requeued, failed).
    @discardableResult
    public func recoverExpiredLeases() async throws -> (requeued: Int, failed: Int) {
        try await pool.transaction { connection in
            let failed = try await connection.query("""
                WITH dead AS (
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < now() AND attempts >= max_attempts AND NOT rerun
                        FOR UPDATE SKIP LOCKED)
                    RETURNING id, queue, kind, payload, priority, attempts, max_attempts, unique_key, lease_owner, created_at
                )
                INSERT INTO job_history (id, queue, kind, payload, priority, state, attempts, max_attempts, unique_key, last_error, created_at)
                SELECT id, queue, kind, payload, priority, 'failed', attempts, max_attempts, unique_key,
                       'lease expired on its last attempt (worker ' || coalesce(lease_owner, '?') || ' stopped or hung)', created_at FROM dead
                """).affectedRows
            let requeued = try await connection.query("""
                UPDATE jobs SET state = 'ready', run_at = now(), lease_id = NULL, lease_expires_at = NULL, rerun = false,
                                attempts = CASE WHEN rerun AND attempts >= max_attempts THEN 0 ELSE attempts END,
                                last_error = 'lease expired (worker ' || coalesce(lease_owner, '?') || ' stopped or hung)', lease_owner = NULL
                WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED)
                """).affectedRows
            return (requeued, failed)
        }
    }

    static func seconds(_ duration: Duration) -> Double { duration.inSeconds }
}

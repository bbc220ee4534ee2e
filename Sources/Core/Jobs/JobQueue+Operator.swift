import Foundation

/// What operators do with jobs through `platformctl jobs`.
extension JobQueue {
    static let recordColumns = """
        id, queue, kind, state, payload::text AS payload, priority, attempts, max_attempts, unique_key, last_error
        """

    /// Active jobs first, then the newest finished ones, optionally of one queue or state.
    public func list(queue: String? = nil, state: String? = nil, limit: Int = 50) async throws -> [JobRecord] {
        let rows = try await pool.query("""
            SELECT * FROM (
                SELECT \(unescaped: Self.recordColumns), lease_owner, run_at, created_at, NULL::timestamptz AS finished_at
                FROM jobs
                UNION ALL
                SELECT \(unescaped: Self.recordColumns), NULL, NULL, created_at, finished_at FROM job_history
            ) AS j
            WHERE (\(queue)::text IS NULL OR queue = \(queue)) AND (\(state)::text IS NULL OR state = \(state))
            ORDER BY coalesce(finished_at, 'infinity') DESC, id DESC
            LIMIT \(limit)
            """)
        return try rows.map(JobRecord.init(row:))
    }

    /// One job, active or finished.
    public func show(id: Int64) async throws -> JobRecord? {
        let rows = try await pool.query("""
            SELECT \(unescaped: Self.recordColumns), lease_owner, run_at, created_at, NULL::timestamptz AS finished_at FROM jobs WHERE id = \(id)
            UNION ALL
            SELECT \(unescaped: Self.recordColumns), NULL, NULL, created_at, finished_at FROM job_history WHERE id = \(id)
            """)
        return try rows.first.map(JobRecord.init(row:))
    }

    /// Why `retry` or `cancel` did nothing.
    public enum OperatorRefusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound(Int64)
        case notFailed(Int64, state: String)
        case alreadyFinished(Int64, state: String)
        case uniqueKeyActive(Int64, key: String)

        public var description: String {
            switch self {
            case .notFound(let id): "job \(id) does not exist"
            case .notFailed(let id, let state): "job \(id) is \(state); only failed or cancelled jobs can be retried"
            case .alreadyFinished(let id, let state): "job \(id) has already finished (\(state))"
            case .uniqueKeyActive(let id, let key): "job \(id) cannot be retried: another active job holds its unique key \(key)"
            }
        }
    }

    /// Puts a failed or cancelled job back in its queue with fresh attempts, under its old ID.
    public func retry(id: Int64) async throws {
        try await pool.transaction { connection in
            let rows = try await connection.query("SELECT state, unique_key FROM job_history WHERE id = \(id) FOR UPDATE")
            guard let row = rows.first else {
                if try await connection.query("SELECT 1 FROM jobs WHERE id = \(id)").isEmpty { throw OperatorRefusal.notFound(id) }
                throw OperatorRefusal.notFailed(id, state: "active")
            }
            let state: String = try row.decode("state")
            guard state == "failed" || state == "cancelled" else { throw OperatorRefusal.notFailed(id, state: state) }
            let inserted = try await connection.query("""
                WITH moved AS (DELETE FROM job_history WHERE id = \(id) RETURNING *)
                INSERT INTO jobs (id, queue, kind, payload, priority, max_attempts, unique_key, last_error, created_at)
                SELECT id, queue, kind, payload, priority, max_attempts, unique_key, last_error, created_at FROM moved
                ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
                RETURNING id
                """)
            if inserted.isEmpty {
                throw OperatorRefusal.uniqueKeyActive(id, key: try row.decodeIfPresent("unique_key", as: String.self) ?? "")
            }
        }
    }

    /// Cancels an active job: it moves to the history as cancelled. A running handler loses its lease at
    /// its next renewal and is stopped; its result is discarded.
    public func cancel(id: Int64, reason: String = "cancelled by an operator") async throws {
        let moved = try await pool.query("""
            WITH gone AS (
                DELETE FROM jobs WHERE id = \(id)
                RETURNING id, queue, kind, payload, priority, attempts, max_attempts, unique_key, created_at
            )
            INSERT INTO job_history (id, queue, kind, payload, priority, state, attempts, max_attempts, unique_key, last_error, created_at)
            SELECT id, queue, kind, payload, priority, 'cancelled', attempts, max_attempts, unique_key, \(reason), created_at FROM gone
            """).affectedRows
        if moved == 0 {
            if let finished = try await show(id: id) { throw OperatorRefusal.alreadyFinished(id, state: finished.state) }
            throw OperatorRefusal.notFound(id)
        }
    }

    /// Counts per queue: due, scheduled for later, running, failed (kept), completed in the last hour.
    public func statistics() async throws -> [QueueStatistics] {
        let rows = try await pool.query("""
            WITH active AS (
                SELECT queue,
                       count(*) FILTER (WHERE state = 'ready' AND run_at <= now()) AS ready,
                       count(*) FILTER (WHERE state = 'ready' AND run_at > now()) AS scheduled,
                       count(*) FILTER (WHERE state = 'running') AS running,
                       coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'ready' AND run_at <= now())), 0)::float8 AS oldest
                FROM jobs GROUP BY queue
            ), finished AS (
                SELECT queue,
                       count(*) FILTER (WHERE state = 'failed') AS failed,
                       count(*) FILTER (WHERE state = 'completed' AND finished_at > now() - interval '1 hour') AS completed
                FROM job_history GROUP BY queue
            )
            SELECT coalesce(a.queue, f.queue) AS queue, coalesce(ready, 0) AS ready, coalesce(scheduled, 0) AS scheduled,
                   coalesce(running, 0) AS running, coalesce(failed, 0) AS failed, coalesce(completed, 0) AS completed,
                   coalesce(oldest, 0) AS oldest
            FROM active a FULL JOIN finished f ON a.queue = f.queue
            ORDER BY 1
            """)
        return try rows.map { row in
            QueueStatistics(queue: try row.decode("queue"), ready: try row.decode("ready"), scheduled: try row.decode("scheduled"),
                            running: try row.decode("running"), failed: try row.decode("failed"),
                            completedLastHour: try row.decode("completed"), oldestReadyAgeSeconds: try row.decode("oldest"))
        }
    }

    /// Deletes completed and cancelled history older than `age`; failed jobs are kept until retried or
    /// pruned with `includeFailed`. Returns how many rows went.
    @discardableResult
    public func pruneHistory(olderThan age: Duration, includeFailed: Bool = false) async throws -> Int {
        try await pool.query("""
            DELETE FROM job_history
            WHERE finished_at < now() - \(Self.seconds(age)) * interval '1 second' AND (state <> 'failed' OR \(includeFailed))
            """).affectedRows
    }
}

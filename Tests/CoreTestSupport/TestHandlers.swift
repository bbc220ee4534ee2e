import Core

/// Job handlers the integration tests and the test worker process share. Not used by services.
public enum TestHandlers {
    /// Records a run of `job` and flags it if another run of the same job is in progress at the same time.
    /// Needs `test_active (job_id bigint PRIMARY KEY)`, `test_runs (job_id, owner, attempt)` and
    /// `test_overlaps (job_id)`.
    public static func track(_ job: ClaimedJob, pool: PostgresPool, owner: String) async throws {
        let inserted = try await pool.query("INSERT INTO test_active (job_id) VALUES (\(job.id)) ON CONFLICT DO NOTHING").affectedRows
        if inserted == 0 {
            try await pool.query("INSERT INTO test_overlaps (job_id) VALUES (\(job.id))")
        }
        try await pool.query("INSERT INTO test_runs (job_id, owner, attempt) VALUES (\(job.id), \(owner), \(job.attempt))")
        try await pool.query("DELETE FROM test_active WHERE job_id = \(job.id)")
    }
}

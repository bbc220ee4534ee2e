import Core
import Foundation
import Logging

/// The periodic `vks.schedule` job (one instance runs it, through the job scheduler): queues a
/// `vks.refresh` for each key that is due (never checked, or past its `next_check_at`), as many as the
/// rate limit can serve before the next run, each at a random moment of the interval so that they do
/// not arrive together. A queued key's next check is pushed past the next run (never pulled earlier), so
/// that the following runs pick other keys; the refresh sets the real one.
public enum VKSScheduleJob {
    public static let kind = "vks.schedule"

    public static func recurring(every interval: Duration) -> RecurringJob {
        RecurringJob(name: kind, every: interval, job: NewJob(kind: kind, queue: VKSRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }

    /// Queues the due keys; returns how many.
    @discardableResult
    public static func queueDue(pool: PostgresPool, interval: Duration, requestsPerMinute: Int, logger: Logger) async throws -> Int {
        let seconds = interval.inSeconds
        let capacity = max(1, Int(seconds / 60 * Double(requestsPerMinute)))
        let queued = try await pool.transaction { connection in
            let due: [String] = try await connection.query("""
                SELECT k.fingerprint FROM keys k LEFT JOIN key_vks_checks c USING (fingerprint)
                WHERE c.next_check_at IS NULL OR c.next_check_at <= now()
                ORDER BY c.next_check_at NULLS FIRST, k.fingerprint
                LIMIT \(capacity)
                """).map { try $0.decode("fingerprint") }
            guard !due.isEmpty else { return 0 }
            let now = Date()
            let queued = try await JobQueue.enqueue(batch: try due.map { hex in
                var job = try VKSRefreshJob.make(fingerprint: try Fingerprint(hex))
                job.runAt = now.addingTimeInterval(Double.random(in: 0..<seconds))
                return job
            }, on: connection)
            try await connection.query("""
                INSERT INTO key_vks_checks (fingerprint, next_check_at)
                SELECT unnest(\(PostgresArray(due))::text[]), now() + \(2 * seconds) * interval '1 second'
                ON CONFLICT (fingerprint) DO UPDATE SET next_check_at = greatest(key_vks_checks.next_check_at, EXCLUDED.next_check_at)
                """)
            // Keys whose refresh was already waiting are not counted again.
            return queued
        }
        if queued > 0 { logger.info("vks refreshes queued", metadata: ["vks.queued": "\(queued)", "vks.capacity": "\(capacity)"]) }
        return queued
    }
}

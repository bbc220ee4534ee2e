import Logging
import ServiceLifecycle

/// A job to enqueue every `interval`, e.g. a daily refresh of every domain's MTA-STS policy.
public struct RecurringJob: Sendable {
    /// Stable and unique across the platform; it names the schedule in `job_schedules`.
    public var name: String
    public var interval: Duration
    public var job: NewJob

    public init(name: String, every interval: Duration, job: NewJob) {
        precondition(interval >= .seconds(1), "recurring jobs run at most once a second")
        self.name = name
        self.interval = interval
        self.job = job
    }
}

/// Enqueues recurring jobs, safely when many instances run it at once.
///
/// Time is cut into slots of each schedule's interval, counted on the database's clock so instances with
/// skewed clocks agree; a slot is stored as its start in epoch seconds, so changing an interval never
/// leaves a schedule behind a slot number it can no longer reach. For each slot exactly one instance wins the conditional update of
/// `job_schedules.last_slot` and enqueues, in the same transaction; the job's unique key (`schedule:NAME`)
/// also stops a new run while the previous one is still active.
public struct JobScheduler: Service {
    public let schedules: [RecurringJob]
    let pool: PostgresPool
    let logger: Logger

    public init(schedules: [RecurringJob], pool: PostgresPool, logger: Logger) {
        self.schedules = schedules
        self.pool = pool
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                _ = try? await self.tick()
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Enqueues every schedule whose current slot has not been enqueued yet; returns their names.
    @discardableResult
    public func tick() async throws -> [String] {
        var enqueued: [String] = []
        for schedule in schedules {
            let won = try await pool.transaction { connection -> Bool in
                let seconds = JobQueue.seconds(schedule.interval)
                let rows = try await connection.query("""
                    INSERT INTO job_schedules (name, last_slot)
                    VALUES (\(schedule.name), (floor(extract(epoch FROM now()) / \(seconds)) * \(seconds))::bigint)
                    ON CONFLICT (name) DO UPDATE SET last_slot = EXCLUDED.last_slot
                    WHERE job_schedules.last_slot < EXCLUDED.last_slot
                    RETURNING last_slot
                    """)
                guard !rows.isEmpty else { return false }
                var job = schedule.job
                job.uniqueKey = job.uniqueKey ?? "schedule:\(schedule.name)"
                let result = try await JobQueue.enqueue(job, on: connection)
                if result == .duplicate {
                    logger.notice("previous run of a recurring job is still active; skipping this slot", metadata: ["schedule": "\(schedule.name)"])
                }
                return result != .duplicate
            }
            if won { enqueued.append(schedule.name) }
        }
        return enqueued
    }
}

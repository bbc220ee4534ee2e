import Foundation
import Metrics

/// The job metrics each worker reports, labelled by queue (and kind where it matters).
///
/// Prometheus names: `palisade_jobs_claimed_total`, `palisade_jobs_completed_total`,
/// `palisade_jobs_failed_total` (each failed attempt) and `palisade_jobs_dead_total` (failed for good),
/// `palisade_job_duration_seconds`, `palisade_job_wait_seconds` (due → claimed), `palisade_job_claim_seconds`,
/// and the gauges `palisade_jobs_ready` and `palisade_jobs_oldest_ready_age_seconds`.
struct JobMetrics: Sendable {
    let queue: String
    private let claimedCounter: Counter
    private let claimTimer: Metrics.Timer
    private let waitTimer: Metrics.Timer
    private let readyGauge: Gauge
    private let oldestGauge: Gauge

    init(queue: String) {
        self.queue = queue
        claimedCounter = Counter(label: "palisade_jobs_claimed_total", dimensions: [("queue", queue)])
        claimTimer = Metrics.Timer(label: "palisade_job_claim_seconds", dimensions: [("queue", queue)])
        waitTimer = Metrics.Timer(label: "palisade_job_wait_seconds", dimensions: [("queue", queue)])
        readyGauge = Gauge(label: "palisade_jobs_ready", dimensions: [("queue", queue)])
        oldestGauge = Gauge(label: "palisade_jobs_oldest_ready_age_seconds", dimensions: [("queue", queue)])
    }

    func claimed(_ jobs: [ClaimedJob], latency: Duration) {
        claimTimer.recordNanoseconds(Int64(JobQueue.seconds(latency) * 1e9))
        guard !jobs.isEmpty else { return }
        claimedCounter.increment(by: jobs.count)
        let now = Date.now
        for job in jobs {
            waitTimer.recordNanoseconds(Int64(max(0, now.timeIntervalSince(job.runAt)) * 1e9))
        }
    }

    func completed(_ job: ClaimedJob, duration: Duration) {
        Counter(label: "palisade_jobs_completed_total", dimensions: [("queue", queue), ("kind", job.kind)]).increment()
        Metrics.Timer(label: "palisade_job_duration_seconds", dimensions: [("queue", queue), ("kind", job.kind)])
            .recordNanoseconds(Int64(JobQueue.seconds(duration) * 1e9))
    }

    func failed(_ job: ClaimedJob, final: Bool, duration: Duration) {
        Counter(label: "palisade_jobs_failed_total", dimensions: [("queue", queue), ("kind", job.kind)]).increment()
        if final {
            Counter(label: "palisade_jobs_dead_total", dimensions: [("queue", queue), ("kind", job.kind)]).increment()
        }
        Metrics.Timer(label: "palisade_job_duration_seconds", dimensions: [("queue", queue), ("kind", job.kind)])
            .recordNanoseconds(Int64(JobQueue.seconds(duration) * 1e9))
    }

    func sampleDepth(_ jobs: JobQueue) async {
        guard let rows = try? await jobs.pool.query("""
            SELECT count(*) AS ready, coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8 AS oldest
            FROM jobs WHERE queue = \(queue) AND state = 'ready' AND run_at <= now()
            """), let row = rows.first else { return }
        readyGauge.record((try? row.decode("ready", as: Int.self)) ?? 0)
        oldestGauge.record((try? row.decode("oldest", as: Double.self)) ?? 0)
    }
}

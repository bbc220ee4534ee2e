import Foundation
import Metrics
import Synchronization

/// The job metrics each worker reports, labelled by queue (and kind where it matters).
///
/// Prometheus names: `palisade_jobs_claimed_total`, `palisade_jobs_completed_total`,
/// `palisade_jobs_failed_total` (each failed attempt), `palisade_jobs_dead_total` (failed for good) and
/// `palisade_jobs_postponed_total` (told to wait, e.g. by a server's Retry-After),
/// `palisade_job_duration_seconds`, `palisade_job_wait_seconds` (due → claimed), `palisade_job_claim_seconds`,
/// and the gauges `palisade_jobs_ready` and `palisade_jobs_oldest_ready_age_seconds`.
final class JobMetrics: Sendable {
    let queue: String
    /// Handles per job kind, made once: looking a metric up in the registry for every job costs a lock
    /// and a hash of its labels.
    private let perKind = Mutex<[String: KindHandles]>([:])

    private struct KindHandles: Sendable {
        let completed: Counter
        let failed: Counter
        let dead: Counter
        let postponed: Counter
        let duration: Metrics.Timer
    }

    private func handles(_ kind: String) -> KindHandles {
        perKind.withLock { cache in
            if let handles = cache[kind] { return handles }
            let dimensions = [("queue", queue), ("kind", kind)]
            let handles = KindHandles(
                completed: Counter(label: "palisade_jobs_completed_total", dimensions: dimensions),
                failed: Counter(label: "palisade_jobs_failed_total", dimensions: dimensions),
                dead: Counter(label: "palisade_jobs_dead_total", dimensions: dimensions),
                postponed: Counter(label: "palisade_jobs_postponed_total", dimensions: dimensions),
                duration: Metrics.Timer(label: "palisade_job_duration_seconds", dimensions: dimensions)
            )
            cache[kind] = handles
            return handles
        }
    }
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
        let handles = handles(job.kind)
        handles.completed.increment()
        handles.duration.recordNanoseconds(Int64(JobQueue.seconds(duration) * 1e9))
    }

    func postponed(_ job: ClaimedJob) {
        handles(job.kind).postponed.increment()
    }

    func failed(_ job: ClaimedJob, final: Bool, duration: Duration) {
        let handles = handles(job.kind)
        handles.failed.increment()
        if final { handles.dead.increment() }
        handles.duration.recordNanoseconds(Int64(JobQueue.seconds(duration) * 1e9))
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

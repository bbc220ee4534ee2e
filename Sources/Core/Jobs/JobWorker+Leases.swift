import Foundation
import Logging
import Synchronization

/// The worker's periodic duties: renewing leases (and giving up on overdue handlers), taking over jobs
/// whose worker died, pruning the history and sampling queue depth.
extension JobWorker {
    /// Renews leases, recovers expired ones and samples queue depth, each on its own period.
    func runTimers() async {
        let renewEvery = options.lease / 3
        var nextRenew = ContinuousClock.now + renewEvery
        var nextRecover = ContinuousClock.now
        var nextSample = ContinuousClock.now
        var nextPrune = ContinuousClock.now + .seconds(60)
        while !Task.isCancelled {
            let now = ContinuousClock.now
            if now >= nextRenew {
                await renewLeases()
                nextRenew = now + renewEvery
            }
            if now >= nextRecover {
                if let (requeued, failed) = try? await jobs.recoverExpiredLeases(), requeued + failed > 0 {
                    logger.warning("took over jobs whose worker stopped renewing its lease", metadata: ["jobs.requeued": "\(requeued)", "jobs.failed": "\(failed)"])
                    wake()
                }
                nextRecover = now + max(options.lease / 2, .seconds(1))
            }
            if let retention = options.historyRetention, now >= nextPrune {
                // Every worker may do this; the DELETE is idempotent and indexed on finished_at.
                if let pruned = try? await jobs.pruneHistory(olderThan: retention), pruned > 0 {
                    logger.info("pruned finished jobs from the history", metadata: ["jobs.count": "\(pruned)"])
                }
                nextPrune = now + .seconds(600)
            }
            if now >= nextSample {
                await metrics.sampleDepth(jobs)
                nextSample = now + .seconds(15)
            }
            // The poll interval also catches jobs that became due without a NOTIFY (retries, run_at).
            wake()
            try? await Task.sleep(for: min(options.pollInterval, renewEvery))
        }
    }

    /// Renews the leases of running jobs and of finished ones whose outcome is not written yet. A handler
    /// past `maxRunTime` is cancelled and its lease left to expire, so a hung handler cannot hold its job
    /// forever: another worker takes it over.
    func renewLeases() async {
        let now = ContinuousClock.now
        let (held, overdue) = state.withLock { state -> ([UUID], [(ClaimedJob, Task<Void, Never>?)]) in
            let overdueLeases = state.startedAt.filter { now - $0.value > options.maxRunTime }.map(\.key)
            let overdue = overdueLeases.compactMap { lease in
                state.running[lease].map { job -> (ClaimedJob, Task<Void, Never>?) in
                    state.startedAt.removeValue(forKey: lease)
                    return (job, state.tasks[lease])
                }
            }
            let held = state.startedAt.keys.filter { state.running[$0] != nil } + state.finished.map(\.job.leaseID) + state.unrecorded
            return (held, overdue)
        }
        for (job, task) in overdue {
            logger.warning("job handler ran past jobs.maxRunTime; cancelling it and letting its lease expire",
                           metadata: ["job.id": "\(job.id)", "job.kind": "\(job.kind)"])
            task?.cancel()
        }
        guard !held.isEmpty else { return }
        guard let renewed = try? await jobs.renew(leases: held, lease: options.lease) else {
            logger.warning("renewing job leases failed; will try again")
            return
        }
        let lost = state.withLock { state in
            held.filter { !renewed.contains($0) }.compactMap { lease in
                state.startedAt.removeValue(forKey: lease)
                return state.running.removeValue(forKey: lease).map { ($0, state.tasks.removeValue(forKey: lease)) }
            }
        }
        for (job, task) in lost {
            logger.notice("job lease lost (cancelled or taken over); stopping its handler", metadata: ["job.id": "\(job.id)"])
            task?.cancel()
        }
    }
}

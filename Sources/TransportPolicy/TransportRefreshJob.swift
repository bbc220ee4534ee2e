import Core
import Foundation
import Logging
import MailPolicy

/// `mta-sts.refresh {domain}` and `dane.refresh {domain}`: look at one half of a cached domain again and
/// store what was found (the NOTIFY that follows updates every instance's memory). Queued by look-ups
/// that find their entry due; one active job per domain and kind, so one instance does each.
public enum TransportRefreshJob {
    public static let queue = "transport"

    public enum Half: String, Sendable, CaseIterable {
        case mtaSts = "mta-sts.refresh"
        case dane = "dane.refresh"
    }

    public struct Payload: Codable, Sendable, Equatable {
        public var domain: String
    }

    public static func make(_ half: Half, domain: String) -> NewJob {
        // A payload of one string always encodes.
        try! NewJob(kind: half.rawValue, payload: Payload(domain: domain), queue: queue, maxAttempts: 3, uniqueKey: "\(half.rawValue):\(domain)")
    }

    static func domain(of job: ClaimedJob) throws -> DomainName {
        let payload = try job.decodePayload(as: Payload.self)
        do {
            return try DomainName(payload.domain)
        } catch {
            throw JobFailure("payload domain \"\(payload.domain.prefix(80))\" is not a domain name: \(error)", permanent: true)
        }
    }

    /// The handlers of both kinds.
    public static func handlers(checker: TransportPolicyChecker, pool: PostgresPool, logger: Logger,
                                now: @escaping @Sendable () -> Date = { Date() }) -> [String: JobWorker.Handler] {
        let store = TransportPolicyStore(pool: pool)
        return [
            Half.mtaSts.rawValue: { job in
                let name = try domain(of: job)
                // Gone from the cache (pruned): nothing to refresh.
                guard let entry = try await store.load(name.ascii) else { return }
                let state = await checker.checkSTS(name, previous: entry.sts, at: now())
                TransportMetrics.checked(sts: state)
                if state.lastCheck == .dnsFailed || state.lastCheck == .fetchFailed {
                    logger.notice("MTA-STS refresh failed", metadata: ["domain": "\(name)", "error": "\(state.detail ?? "")",
                                                                      "kept_policy": "\(state.policy(at: now()) != nil)"])
                }
                try await store.save(sts: state, for: name.ascii)
            },
            Half.dane.rawValue: { job in
                let name = try domain(of: job)
                guard let entry = try await store.load(name.ascii) else { return }
                let state = await checker.checkDANE(name, previous: entry.dane, at: now())
                TransportMetrics.checked(dane: state)
                if let error = state.lastError {
                    logger.notice("DANE refresh failed", metadata: ["domain": "\(name)", "error": "\(error)", "status": "\(state.result.status.rawValue)"])
                }
                try await store.save(dane: state, for: name.ascii)
            },
        ]
    }
}

/// `transport.prune`, on a schedule: forget domains nobody looked up for `transport.unusedRetention`.
public enum TransportPruneJob {
    public static let kind = "transport.prune"

    public static func recurring(every interval: Duration) -> RecurringJob {
        RecurringJob(name: kind, every: interval, job: NewJob(kind: kind, queue: TransportRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }

    public static func handler(pool: PostgresPool, retention: Duration, logger: Logger) -> JobWorker.Handler {
        { _ in
            let removed = try await TransportPolicyStore(pool: pool).pruneUnused(olderThan: retention)
            if removed > 0 { logger.info("unused transport policies forgotten", metadata: ["count": "\(removed)"]) }
        }
    }
}

/// `transport.sweep`, on a schedule (one instance runs each): queues the refreshes of domains looked up
/// within `transport.proactiveWindow` whose MTA-STS or DANE half is due, so a domain in use is refreshed
/// before its next look-up needs it; look-ups queue them too when they find an entry due first.
public enum TransportSweepJob {
    public static let kind = "transport.sweep"
    /// Refreshes queued per run at most; the rest wait for the next run.
    static let batch = 5_000

    public static func recurring(every interval: Duration) -> RecurringJob {
        RecurringJob(name: kind, every: interval, job: NewJob(kind: kind, queue: TransportRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }

    public static func handler(pool: PostgresPool, window: Duration, logger: Logger) -> JobWorker.Handler {
        { _ in
            let due = try await TransportPolicyStore(pool: pool).due(usedWithin: window, limit: batch)
            var jobs: [NewJob] = []
            for row in due {
                if row.sts { jobs.append(TransportRefreshJob.make(.mtaSts, domain: row.domain)) }
                if row.dane { jobs.append(TransportRefreshJob.make(.dane, domain: row.domain)) }
            }
            guard !jobs.isEmpty else { return }
            let queued = try await JobQueue(pool: pool).enqueue(batch: jobs)
            logger.debug("transport refreshes queued", metadata: ["due": "\(jobs.count)", "queued": "\(queued)"])
        }
    }
}

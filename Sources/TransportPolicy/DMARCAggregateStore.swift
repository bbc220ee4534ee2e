import Core
import DNS
import Foundation
import Logging
import MailPolicy

/// The milter's per-day DMARC data (`dmarc_aggregate`): one row per source address, author domain,
/// disposition and authentication results, counted up per message, for DMARC aggregate reports (RFC 7489
/// §7.2) to be made from. A failure to record never changes what the mail was told.
public struct DMARCAggregateStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Counts one message judged pass or fail under a policy record; the rest (none, a malformed record's
    /// permerror, temperror, which the sender retries) and messages without a client address are not report
    /// data: aggregate reports go to the owners of policies.
    public func record(_ outcome: AuthenticationOutcome, at time: Date = Date()) async throws {
        guard let verdict = outcome.dmarc, verdict.record != nil, verdict.result == .pass || verdict.result == .fail,
              let address = outcome.clientAddress else { return }
        let dkim = outcome.dkim.map { "d=\($0.domain) s=\($0.selector) \($0.kind.rawValue)" }.sorted().joined(separator: ", ")
        let disposition = outcome.appliedDisposition.rawValue
        try await pool.query("""
            INSERT INTO dmarc_aggregate (day, source_ip, header_from, policy_domain, policy, disposition, dmarc, spf_domain, spf_result, dkim,
                                         dkim_aligned, spf_aligned, messages)
            VALUES ((\(time) AT TIME ZONE 'UTC')::date, \(address.description)::inet, \(verdict.fromDomain), \(verdict.policyDomain ?? ""),
                    \(verdict.policy?.rawValue ?? ""), \(disposition), \(verdict.result.rawValue), \(outcome.spf?.domain ?? ""),
                    \(outcome.spf?.kind.rawValue ?? "none"), \(dkim), \(verdict.dkimAligned), \(verdict.spfAligned), 1)
            ON CONFLICT (day, source_ip, header_from, policy_domain, disposition, dmarc, spf_domain, spf_result, dkim)
            DO UPDATE SET messages = dmarc_aggregate.messages + 1, last_seen = now()
            """)
    }

    /// Deletes days older than `retention`; the count of rows deleted.
    public func prune(olderThan retention: Duration) async throws -> Int {
        try await pool.query("""
            WITH deleted AS (DELETE FROM dmarc_aggregate WHERE day < (now() - make_interval(secs => \(retention.inSeconds)))::date RETURNING 1)
            SELECT count(*) AS count FROM deleted
            """).first?.decode("count") ?? 0
    }
}

/// `dmarc.prune`, daily: aggregate rows past `transport.milter.aggregateRetention`.
public enum DMARCAggregatePruneJob {
    public static let kind = "dmarc.prune"

    public static func recurring() -> RecurringJob {
        RecurringJob(name: kind, every: .seconds(86_400), job: NewJob(kind: kind, queue: TransportRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }

    public static func handler(pool: PostgresPool, retention: Duration, logger: Logger) -> JobWorker.Handler {
        { _ in
            let removed = try await DMARCAggregateStore(pool: pool).prune(olderThan: retention)
            if removed > 0 { logger.info("old DMARC aggregate rows deleted", metadata: ["count": "\(removed)"]) }
        }
    }
}

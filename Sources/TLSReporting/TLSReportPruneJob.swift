import Core
import Logging

/// `tlsrpt.prune`, daily: reports past `tlsrpt.retention` are deleted; the aggregates stay.
public enum TLSReportPruneJob {
    public static let kind = "tlsrpt.prune"

    public static func recurring() -> RecurringJob {
        RecurringJob(name: kind, every: .seconds(86_400), job: NewJob(kind: kind, queue: TLSReportProcessJob.queue, uniqueKey: "schedule:\(kind)"))
    }

    public static func handler(pool: PostgresPool, retention: Duration, logger: Logger) -> JobWorker.Handler {
        { _ in
            let removed = try await TLSReportStore(pool: pool).prune(olderThan: retention)
            if removed > 0 { logger.info("old TLS reports deleted", metadata: ["count": "\(removed)"]) }
        }
    }
}

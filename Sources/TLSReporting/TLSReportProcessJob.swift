import Core
import Foundation
import Logging
import Metrics

/// `tlsrpt.process {report}`: adds one stored report to the per-day aggregate (once, however often the
/// job runs), counts its sessions in the metrics and warns when a domain's failure rate for the day is
/// over `tlsrpt.alert.failurePercent`. Queued by whatever stored the report, in the same transaction;
/// handled by palisade-transport's worker.
public enum TLSReportProcessJob {
    /// The job kind, and the queue palisade-transport's worker takes it from.
    public static let kind = "tlsrpt.process"
    public static let queue = "transport"

    struct Payload: Codable {
        var report: Int64
    }

    /// The job for stored report `id`: one active per report.
    public static func make(report id: Int64) -> NewJob {
        // A payload of one integer always encodes.
        try! NewJob(kind: kind, payload: Payload(report: id), queue: queue, maxAttempts: 5, uniqueKey: "\(kind):\(id)")
    }

    /// The handler palisade-transport's worker runs.
    public static func handler(pool: PostgresPool, alerting: TLSReportAlerting, logger: Logger) -> JobWorker.Handler {
        let store = TLSReportStore(pool: pool)
        return { job in
            let payload = try job.decodePayload(as: Payload.self)
            let processed: TLSReportStore.Processed?
            do {
                processed = try await store.process(id: payload.report, alerting: alerting)
            } catch let error as TLSReportError {
                // Stored reports were validated by this parser: one that no longer parses cannot get better.
                throw JobFailure("stored report \(payload.report) does not parse: \(error)", permanent: true)
            }
            guard let processed else { return }
            let report = processed.report
            logger.info("TLS report processed", metadata: [
                "report_id": "\(report.reportID)", "organization": "\(report.organizationName)", "day": "\(report.day)",
                "origin": "\(processed.origin.rawValue)", "successful": "\(report.successfulSessions)", "failed": "\(report.failedSessions)",
            ])
            // Reports by mail whose DKIM signature was not verified stay out of metrics and alerts (RFC 8460 §3).
            guard processed.origin.alerting else { return }
            TLSReportMetrics.counted(report)
            for totals in processed.totals {
                TLSReportMetrics.failureRatio(domain: totals.domain).record(totals.failureRatio)
                // Said once per domain and day: by the report whose processing first found the day over the threshold.
                guard processed.newAlarms.contains(totals.domain) else { continue }
                logger.warning("TLS delivery failure rate above threshold", metadata: [
                    "policy_domain": "\(totals.domain)", "day": "\(report.day)",
                    "failure_percent": "\(String(format: "%.2f", totals.failureRatio * 100))",
                    "threshold_percent": "\(String(format: "%.2f", alerting.failureRatio * 100))",
                    "failed": "\(totals.failed)", "successful": "\(totals.successful)", "after_report": "\(report.reportID)",
                ])
            }
        }
    }
}

import Core
import Foundation
import Logging

/// Taking a report in, the same way whichever way it came (HTTPS POST, a mail piped to `platformctl
/// tlsrpt ingest`): decompress within the limits, validate, refuse foreign domains, store once, queue its
/// processing. A refused report changes nothing.
public struct TLSReportIntake: Sendable {
    let store: TLSReportStore
    let limits: TLSReportPayload.Limits
    let logger: Logger

    public init(pool: PostgresPool, limits: TLSReportPayload.Limits, logger: Logger) {
        store = TLSReportStore(pool: pool)
        self.limits = limits
        self.logger = logger
    }

    /// A report taken in: what it says, and whether it was new.
    public struct Received: Sendable {
        public var report: TLSReport
        public var stored: TLSReportStore.Stored
    }

    /// A report mail (`platformctl tlsrpt ingest`): its report, stored as `mail-unverified`.
    public func receive(mail message: [UInt8]) async throws -> Received {
        let mail: TLSReportMail
        do {
            mail = try TLSReportMail(parsing: message, limits: limits)
        } catch {
            refused(error, origin: .mailUnverified)
            throw error
        }
        return try await receive(mail.payload, origin: .mailUnverified, envelope: mail.envelope)
    }

    /// Throws `TLSReportError` for a refused report, other errors when the database failed (try again).
    public func receive(_ payload: TLSReportPayload, origin: ReportOrigin, envelope: TLSReportMail.Envelope? = nil) async throws -> Received {
        do {
            let report = try TLSReport.parse(json: try payload.json(limits: limits))
            let stored = try await store.store(report, origin: origin, envelope: envelope)
            TLSReportMetrics.received(origin: origin, outcome: stored.outcome)
            logger.info("TLS report \(stored.outcome)", metadata: ["report_id": "\(report.reportID)", "organization": "\(report.organizationName)",
                                                                  "origin": "\(origin.rawValue)", "id": "\(stored.id)"])
            return Received(report: report, stored: stored)
        } catch let error as TLSReportError {
            refused(error, origin: origin)
            throw error
        }
    }

    /// Counts and logs a refusal made before or by `receive` (the HTTP route refuses media types and sizes itself).
    public func refused(_ error: TLSReportError, origin: ReportOrigin) {
        TLSReportMetrics.received(origin: origin, outcome: error.kind.rawValue)
        // Info, not notice: anyone can send a bad report, and the metric is what to watch.
        logger.info("TLS report refused", metadata: ["origin": "\(origin.rawValue)", "reason": "\(error.kind.rawValue)", "error": "\(error.message.prefix(300))"])
    }
}

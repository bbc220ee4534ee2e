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

    public struct Received: Sendable {
        public var report: TLSReport
        public var stored: TLSReportStore.Stored
    }

    /// Throws `TLSReportError` for a refused report, other errors when the database failed (try again).
    public func receive(_ payload: TLSReportPayload, origin: ReportOrigin, envelope: TLSReportMail.Envelope? = nil) async throws -> Received {
        do {
            let report = try TLSReport.parse(json: try payload.json(limits: limits))
            let stored = try await store.store(report, origin: origin, envelope: envelope)
            switch stored {
            case .stored(let id):
                TLSReportMetrics.received(origin: origin, outcome: "stored")
                logger.info("TLS report stored", metadata: ["report_id": "\(report.reportID)", "organization": "\(report.organizationName)",
                                                           "origin": "\(origin.rawValue)", "id": "\(id)"])
            case .duplicate(let id, _):
                TLSReportMetrics.received(origin: origin, outcome: "duplicate")
                logger.info("TLS report already stored", metadata: ["report_id": "\(report.reportID)", "id": "\(id)", "origin": "\(origin.rawValue)"])
            }
            return Received(report: report, stored: stored)
        } catch let error as TLSReportError {
            TLSReportMetrics.received(origin: origin, outcome: error.kind.rawValue)
            logger.notice("TLS report refused", metadata: ["origin": "\(origin.rawValue)", "reason": "\(error.kind.rawValue)", "error": "\(error)"])
            throw error
        }
    }
}

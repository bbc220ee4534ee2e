import Core
import Foundation

/// `tlsrpt_reports` and `tlsrpt_daily`: reports kept once each by organisation and report-id, and the per-day aggregate
/// that `tlsrpt.process` jobs add them to.
public struct TLSReportStore: Sendable {
    let pool: PostgresPool

    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// What storing did.
    public enum Stored: Sendable, Equatable {
        case stored(id: Int64)
        /// A report with this report-id from this organisation is stored already; nothing changed.
        case duplicate(id: Int64)

        /// The stored row's id, new or not.
        public var id: Int64 {
            switch self {
            case .stored(let id), .duplicate(let id): id
            }
        }

        /// `stored` or `duplicate`: the word answers, metrics and logs use.
        public var outcome: String {
            switch self {
            case .stored: "stored"
            case .duplicate: "duplicate"
            }
        }
    }

    /// Stores a report and queues its processing, in one transaction. A report about a domain that is not
    /// ours (not in `domains`) is refused and changes nothing.
    public func store(_ report: TLSReport, origin: ReportOrigin, envelope: TLSReportMail.Envelope?) async throws -> Stored {
        let domains = report.policyDomains.map(\.ascii)
        let json = String(decoding: report.normalisedJSON(), as: UTF8.self)
        let envelopeJSON = try envelope.map { try PostgresJSON($0) }
        return try await pool.transaction { connection in
            let ours = Set(try await connection.query("SELECT name FROM domains WHERE name = ANY(\(PostgresArray(domains))::text[])")
                .map { try $0.decode("name", as: String.self) })
            if let foreign = domains.first(where: { !ours.contains($0) }) {
                throw TLSReportError(.foreignDomain, "policy-domain \(foreign) is not a domain of this platform: its reports are not taken here")
            }
            let inserted = try await connection.query("""
                INSERT INTO tlsrpt_reports (report_id, organization, contact_info, date_start, date_end, origin, envelope, report)
                VALUES (\(report.reportID), \(report.organizationName), \(report.contactInfo), \(report.dateRange.start), \(report.dateRange.end),
                        \(origin.rawValue), \(envelopeJSON)::jsonb, \(json)::jsonb)
                ON CONFLICT (organization, report_id) DO NOTHING
                RETURNING id
                """)
            guard let row = inserted.first else {
                let existing = try await connection.query("SELECT id FROM tlsrpt_reports WHERE organization = \(report.organizationName) AND report_id = \(report.reportID)")
                guard let row = existing.first else { throw Inconsistent(description: "report \(report.reportID) conflicted but is not stored") }
                return .duplicate(id: try row.decode("id"))
            }
            let id: Int64 = try row.decode("id")
            try await JobQueue.enqueue(TLSReportProcessJob.make(report: id), on: connection)
            return .stored(id: id)
        }
    }

    /// The database said something that cannot be (a conflicting row that is not there).
    struct Inconsistent: Error, CustomStringConvertible {
        let description: String
    }

    /// A report processed: what it was, where it came from, and for an alerting report the day's totals of
    /// its domains with the ones that have just gone over the threshold (to be warned about, once).
    public struct Processed: Sendable {
        public var report: TLSReport
        public var origin: ReportOrigin
        public var totals: [DayTotals]
        public var newAlarms: Set<String>
    }

    /// Adds a stored report to the per-day aggregate and marks it processed, in one transaction: run
    /// twice (a job taken over after its worker died), it counts once. For an alerting report, the same
    /// transaction reads its domains' day totals and claims the day's warning of those over the threshold
    /// (`tlsrpt_alerts`). Nil if it is processed already or gone (pruned).
    public func process(id: Int64, alerting: TLSReportAlerting) async throws -> Processed? {
        try await pool.transaction { connection in
            let rows = try await connection.query("""
                SELECT report::text AS report, origin FROM tlsrpt_reports WHERE id = \(id) AND processed_at IS NULL FOR UPDATE
                """)
            guard let row = rows.first else { return nil }
            let report = try TLSReport.parse(json: Array(try row.decode("report", as: String.self).utf8))
            let origin = ReportOrigin(rawValue: try row.decode("origin")) ?? .mailUnverified
            let counts = report.dailyCounts
            if !counts.isEmpty {
                try await connection.query("""
                    INSERT INTO tlsrpt_daily AS d (day, policy_domain, policy_type, detail, result_type, receiving_mx, organization, alerting, sessions)
                    SELECT \(report.day)::date, domain, type, detail, result, mx, \(report.organizationName), \(origin.alerting), sessions
                    FROM unnest(\(PostgresArray(counts.map(\.policyDomain)))::text[], \(PostgresArray(counts.map(\.policyType)))::text[],
                                \(PostgresArray(counts.map(\.detail)))::boolean[], \(PostgresArray(counts.map(\.resultType)))::text[],
                                \(PostgresArray(counts.map(\.receivingMX)))::text[], \(PostgresArray(counts.map(\.sessions)))::bigint[])
                         AS u (domain, type, detail, result, mx, sessions)
                    ORDER BY domain, type, detail, result, mx
                    ON CONFLICT (day, policy_domain, policy_type, detail, result_type, receiving_mx, organization, alerting)
                    -- Saturating: reports are outside data, and no count may overflow into an error.
                    DO UPDATE SET sessions = least(d.sessions::numeric + EXCLUDED.sessions, \(Int64.max))::bigint
                    """)
            }
            try await connection.query("UPDATE tlsrpt_reports SET processed_at = now() WHERE id = \(id)")
            guard origin.alerting else { return Processed(report: report, origin: origin, totals: [], newAlarms: []) }
            let totals = try await Self.alertingTotals(day: report.day, domains: report.policyDomains.map(\.ascii), on: connection)
            let alarms = try await Self.firstAlarms(day: report.day, domains: totals.filter(alerting.isAlarming).map(\.domain), on: connection)
            return Processed(report: report, origin: origin, totals: totals, newAlarms: alarms)
        }
    }

    /// Deletes processed reports that arrived before `retention` ago; returns how many.
    public func prune(olderThan retention: Duration) async throws -> Int {
        try await pool.query("""
            WITH deleted AS (
                DELETE FROM tlsrpt_reports WHERE processed_at IS NOT NULL AND received_at < now() - make_interval(secs => \(retention.inSeconds))
                RETURNING 1),
            alerts AS (DELETE FROM tlsrpt_alerts WHERE day < (now() - make_interval(secs => \(retention.inSeconds)))::date)
            SELECT count(*) AS count FROM deleted
            """).first?.decode("count") ?? 0
    }
}


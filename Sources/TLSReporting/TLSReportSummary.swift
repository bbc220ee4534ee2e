import Core
import Foundation

/// What the reports since a day say, per policy domain, and the failures that weigh most: the operator's
/// view (`platformctl tlsrpt summary`).
public struct TLSReportSummary: Sendable, Encodable, Equatable {
    /// The first UTC day counted.
    public var since: String
    public var reports: Reports
    public var domains: [Domain]
    public var topFailures: [Failure]

    public struct Reports: Sendable, Encodable, Equatable {
        public var total: Int64
        /// By mail without a verified DKIM signature: counted here, not in metrics and alerts.
        public var unverified: Int64
        /// Stored but not yet aggregated (their tlsrpt.process job has not run).
        public var unprocessed: Int64
    }

    public struct Domain: Sendable, Encodable, Equatable {
        public var domain: String
        public var successful: Int64
        public var failed: Int64
        /// Sessions from unverified reports, included in the two counts above.
        public var unverified: Int64
        public var failureRate: Double { successful + failed == 0 ? 0 : Double(failed) / Double(successful + failed) }

        enum CodingKeys: String, CodingKey { case domain, successful, failed, unverified, failureRate }
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(domain, forKey: .domain)
            try container.encode(successful, forKey: .successful)
            try container.encode(failed, forKey: .failed)
            try container.encode(unverified, forKey: .unverified)
            try container.encode(failureRate, forKey: .failureRate)
        }
    }

    public struct Failure: Sendable, Encodable, Equatable {
        public var domain: String
        public var policyType: String
        public var resultType: String
        public var receivingMX: String
        public var organization: String
        public var sessions: Int64
    }
}

extension TLSReportStore {
    /// The summary of days from `since` (a UTC date, `YYYY-MM-DD`) on, for one domain or all.
    public func summary(since: String, domain: String?, top: Int) async throws -> TLSReportSummary {
        let reportRow = try await pool.query("""
            SELECT count(*) AS total, count(*) FILTER (WHERE origin = \(ReportOrigin.mailUnverified.rawValue)) AS unverified,
                   count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed
            FROM tlsrpt_reports
            WHERE date_start >= \(since)::date::timestamp AT TIME ZONE 'UTC'
              AND (\(domain)::text IS NULL OR EXISTS (SELECT FROM jsonb_array_elements(report->'policies') p
                                                       WHERE p->'policy'->>'policy-domain' = \(domain)))
            """)
        guard let counts = reportRow.first else { throw TLSReportStoreError("the report count returned no row") }
        let domains = try await pool.query("""
            SELECT policy_domain,
                   coalesce(sum(sessions) FILTER (WHERE result_type = \(TLSReport.successResult)), 0)::bigint AS successful,
                   coalesce(sum(sessions) FILTER (WHERE result_type <> \(TLSReport.successResult)), 0)::bigint AS failed,
                   coalesce(sum(sessions) FILTER (WHERE NOT alerting), 0)::bigint AS unverified
            FROM tlsrpt_daily
            WHERE day >= \(since)::date AND (\(domain)::text IS NULL OR policy_domain = \(domain))
            GROUP BY policy_domain ORDER BY policy_domain
            """).map {
            TLSReportSummary.Domain(domain: try $0.decode("policy_domain"), successful: try $0.decode("successful"), failed: try $0.decode("failed"),
                                    unverified: try $0.decode("unverified"))
        }
        let failures = try await pool.query("""
            SELECT policy_domain, policy_type, result_type, receiving_mx, organization, sum(sessions)::bigint AS sessions
            FROM tlsrpt_daily
            WHERE day >= \(since)::date AND (\(domain)::text IS NULL OR policy_domain = \(domain)) AND result_type <> \(TLSReport.successResult)
            GROUP BY policy_domain, policy_type, result_type, receiving_mx, organization
            ORDER BY sessions DESC, policy_domain, policy_type, result_type, receiving_mx, organization
            LIMIT \(top)
            """).map {
            TLSReportSummary.Failure(domain: try $0.decode("policy_domain"), policyType: try $0.decode("policy_type"), resultType: try $0.decode("result_type"),
                                     receivingMX: try $0.decode("receiving_mx"), organization: try $0.decode("organization"), sessions: try $0.decode("sessions"))
        }
        return TLSReportSummary(since: since, reports: .init(total: try counts.decode("total"), unverified: try counts.decode("unverified"),
                                                             unprocessed: try counts.decode("unprocessed")),
                                domains: domains, topFailures: failures)
    }
}

import Core
import Foundation

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
        guard let counts = reportRow.first else { throw Inconsistent(description: "the report count returned no row") }
        let domains = try await pool.query("""
            SELECT policy_domain,
                   least(coalesce(sum(sessions) FILTER (WHERE result_type = \(TLSReport.successResult)), 0), \(Int64.max))::bigint AS successful,
                   least(coalesce(sum(sessions) FILTER (WHERE result_type = \(TLSReport.failureResult)), 0), \(Int64.max))::bigint AS failed,
                   least(coalesce(sum(sessions) FILTER (WHERE NOT alerting), 0), \(Int64.max))::bigint AS unverified
            FROM tlsrpt_daily
            WHERE day >= \(since)::date AND (\(domain)::text IS NULL OR policy_domain = \(domain)) AND NOT detail
            GROUP BY policy_domain ORDER BY policy_domain
            """).map {
            TLSReportSummary.Domain(domain: try $0.decode("policy_domain"), successful: try $0.decode("successful"), failed: try $0.decode("failed"),
                                    unverified: try $0.decode("unverified"))
        }
        let failures = try await pool.query("""
            SELECT policy_domain, policy_type, result_type, receiving_mx, organization, least(sum(sessions), \(Int64.max))::bigint AS sessions
            FROM tlsrpt_daily
            WHERE day >= \(since)::date AND (\(domain)::text IS NULL OR policy_domain = \(domain)) AND detail
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

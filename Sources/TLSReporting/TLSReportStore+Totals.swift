import Core

extension TLSReportStore {
    /// A domain's sessions on one day, from reports that count for alerts.
    public struct DayTotals: Sendable, Equatable {
        public var domain: String
        public var successful: Int64
        public var failed: Int64

        public var sessions: Double { Double(successful) + Double(failed) }
        /// In floating point: totals are outside data, and their sum may not fit an Int64.
        public var failureRatio: Double { sessions == 0 ? 0 : Double(failed) / sessions }
    }

    /// The totals of `domains` on `day` (`YYYY-MM-DD`), from reports that count for alerts.
    static func alertingTotals(day: String, domains: [String], on connection: PostgresConnection) async throws -> [DayTotals] {
        try await connection.query("""
            SELECT policy_domain,
                   least(coalesce(sum(sessions) FILTER (WHERE result_type = \(TLSReport.successResult)), 0), \(Int64.max))::bigint AS successful,
                   least(coalesce(sum(sessions) FILTER (WHERE result_type = \(TLSReport.failureResult)), 0), \(Int64.max))::bigint AS failed
            FROM tlsrpt_daily
            WHERE day = \(day)::date AND policy_domain = ANY(\(PostgresArray(domains))::text[]) AND alerting AND NOT detail
            GROUP BY policy_domain ORDER BY policy_domain
            """).map { DayTotals(domain: try $0.decode("policy_domain"), successful: try $0.decode("successful"), failed: try $0.decode("failed")) }
    }

    /// Of `domains`, those whose warning for `day` has not been given yet; marks them as given (in the
    /// caller's transaction, so only one of several concurrent processors gets each).
    static func firstAlarms(day: String, domains: [String], on connection: PostgresConnection) async throws -> Set<String> {
        guard !domains.isEmpty else { return [] }
        return Set(try await connection.query("""
            INSERT INTO tlsrpt_alerts (policy_domain, day) SELECT domain, \(day)::date FROM unnest(\(PostgresArray(domains))::text[]) AS u (domain)
            ON CONFLICT DO NOTHING RETURNING policy_domain
            """).map { try $0.decode("policy_domain", as: String.self) })
    }
}

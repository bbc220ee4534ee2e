import Core
import Foundation

extension TLSReport {
    /// One row of the per-day aggregate a report adds to (`tlsrpt_daily`): sessions of one outcome under
    /// one policy, as one organisation reported them.
    public struct DailyCount: Sendable, Equatable, Hashable {
        public var policyDomain: String
        public var policyType: String
        /// False for the summary's totals (`success`, `failure`); true for the failure details' breakdown.
        public var detail: Bool
        /// `success` or `failure` for totals; a failure's result type for details.
        public var resultType: String
        /// The receiving MX host name of a detail; empty when the report does not say, and for totals.
        public var receivingMX: String
        public var sessions: Int64
    }

    public static let successResult = "success"
    public static let failureResult = "failure"

    /// The UTC day a report counts for: the day its range starts (RFC 8460 §4.1: reports cover a UTC day).
    public var day: String {
        dateRange.start.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }

    /// What the report adds to the per-day aggregate: each policy's summary as totals, its failure details
    /// as the breakdown (RFC 8460 §4: result types are non-exclusive, so details may overlap and are never
    /// added into the failure total). Rows with the same key summed, zero rows left out, sorted by key (so
    /// concurrent writers lock rows in one order).
    public var dailyCounts: [DailyCount] {
        var sums: [DailyCount: Int64] = [:]
        func add(_ result: PolicyResult, detail: Bool, _ type: String, _ mx: String, _ sessions: Int64) {
            guard sessions > 0 else { return }
            let key = DailyCount(policyDomain: result.policyDomain.ascii, policyType: result.policyType.rawValue, detail: detail, resultType: type,
                                 receivingMX: mx.lowercased(), sessions: 0)
            sums[key, default: 0] += sessions
        }
        for result in policies {
            add(result, detail: false, Self.successResult, "", result.successfulSessions)
            add(result, detail: false, Self.failureResult, "", result.failedSessions)
            for detail in result.failureDetails {
                add(result, detail: true, detail.resultType, detail.receivingMXHostname ?? "", detail.failedSessions)
            }
        }
        return sums.map { key, sessions in
            var row = key
            row.sessions = sessions
            return row
        }.sorted {
            ($0.policyDomain, $0.policyType, $0.detail ? 1 : 0, $0.resultType, $0.receivingMX) < ($1.policyDomain, $1.policyType, $1.detail ? 1 : 0, $1.resultType, $1.receivingMX)
        }
    }
}

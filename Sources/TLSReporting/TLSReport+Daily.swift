import Core
import Foundation

extension TLSReport {
    /// One row of the per-day aggregate a report adds to (`tlsrpt_daily`): sessions of one outcome under
    /// one policy, at one receiving MX, as one organisation reported them.
    public struct DailyCount: Sendable, Equatable, Hashable {
        public var policyDomain: String
        public var policyType: String
        /// `success`, a failure's result type, or `unspecified` for failures the report counts in its
        /// summary but does not detail.
        public var resultType: String
        /// The receiving MX host name; empty when the report does not say.
        public var receivingMX: String
        public var sessions: Int64
    }

    public static let successResult = "success"
    public static let unspecifiedResult = "unspecified"

    /// The UTC day a report counts for: the day its range starts (RFC 8460 §4.1: reports cover a UTC day).
    public var day: String {
        dateRange.start.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }

    /// What the report adds to the per-day aggregate, rows with the same key summed, zero rows left out,
    /// sorted by key (so concurrent writers lock rows in one order).
    public var dailyCounts: [DailyCount] {
        var sums: [DailyCount: Int64] = [:]
        func add(_ result: PolicyResult, _ type: String, _ mx: String, _ sessions: Int64) {
            guard sessions > 0 else { return }
            let key = DailyCount(policyDomain: result.policyDomain.ascii, policyType: result.policyType.rawValue, resultType: type,
                                 receivingMX: mx.lowercased(), sessions: 0)
            sums[key, default: 0] += sessions
        }
        for result in policies {
            add(result, Self.successResult, "", result.successfulSessions)
            var detailed: Int64 = 0
            for detail in result.failureDetails {
                add(result, detail.resultType, detail.receivingMXHostname ?? "", detail.failedSessions)
                detailed += detail.failedSessions
            }
            // Reporters may truncate their details; what the summary counts beyond them is still failure.
            add(result, Self.unspecifiedResult, "", result.failedSessions - detailed)
        }
        return sums.map { key, sessions in
            var row = key
            row.sessions = sessions
            return row
        }.sorted { ($0.policyDomain, $0.policyType, $0.resultType, $0.receivingMX) < ($1.policyDomain, $1.policyType, $1.resultType, $1.receivingMX) }
    }
}

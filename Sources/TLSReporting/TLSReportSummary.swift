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

    /// How many reports cover the period.
    public struct Reports: Sendable, Encodable, Equatable {
        public var total: Int64
        /// By mail without a verified DKIM signature: counted here, not in metrics and alerts.
        public var unverified: Int64
        /// Stored but not yet aggregated (their tlsrpt.process job has not run).
        public var unprocessed: Int64
    }

    /// One policy domain's sessions over the period, from the reports' summaries.
    public struct Domain: Sendable, Encodable, Equatable {
        public var domain: String
        public var successful: Int64
        public var failed: Int64
        /// Sessions from unverified reports, included in the two counts above.
        public var unverified: Int64
        /// In floating point: counts are outside data, and their sum may not fit an Int64.
        public var failureRate: Double { Double(successful) + Double(failed) == 0 ? 0 : Double(failed) / (Double(successful) + Double(failed)) }

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

    /// One failure detail's sessions over the period: a result type at a receiving MX, as one organisation
    /// reported it.
    public struct Failure: Sendable, Encodable, Equatable {
        public var domain: String
        public var policyType: String
        public var resultType: String
        public var receivingMX: String
        public var organization: String
        public var sessions: Int64
    }
}

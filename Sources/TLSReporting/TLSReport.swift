import Core
import Foundation

/// One SMTP TLS report (RFC 8460 §4): what a sending organisation saw when it delivered mail to our
/// domains over a period, per policy it applied. Built only by `TLSReport.parse`, which checks the
/// RFC's schema strictly, so every value here has the type and range the RFC gives it.
public struct TLSReport: Sendable, Equatable {
    public var organizationName: String
    public var dateRange: DateRange
    public var contactInfo: String
    public var reportID: String
    public var policies: [PolicyResult]

    public struct DateRange: Sendable, Equatable {
        public var start: Date
        public var end: Date
    }

    /// RFC 8460 §4.4's `policy-type`.
    public enum PolicyType: String, Sendable, Equatable, CaseIterable {
        case tlsa
        case sts
        case noPolicyFound = "no-policy-found"
    }

    /// The sessions under one policy of one domain.
    public struct PolicyResult: Sendable, Equatable {
        public var policyType: PolicyType
        public var policyString: [String]
        public var policyDomain: DomainName
        public var mxHosts: [String]
        public var successfulSessions: Int64
        public var failedSessions: Int64
        public var failureDetails: [FailureDetail]
    }

    /// One kind of failure (RFC 8460 §4.3, §4.6), with where it happened when the reporter says.
    public struct FailureDetail: Sendable, Equatable {
        public var resultType: String
        public var sendingMTAIP: String?
        public var receivingMXHostname: String?
        public var receivingMXHelo: String?
        public var receivingIP: String?
        public var failedSessions: Int64
        public var additionalInformation: String?
        public var failureReasonCode: String?
    }

    /// The policy domains the report is about, each once.
    public var policyDomains: [DomainName] {
        var seen = Set<String>()
        return policies.map(\.policyDomain).filter { seen.insert($0.ascii).inserted }
    }

    public var successfulSessions: Int64 { policies.reduce(0) { $0 + $1.successfulSessions } }
    public var failedSessions: Int64 { policies.reduce(0) { $0 + $1.failedSessions } }
}

extension TLSReport {
    /// The result types RFC 8460 §4.3 defines (and IANA's "STARTTLS Validation Result Types" registry
    /// lists). Other well-formed names are accepted, since the registry can grow, and counted as they are;
    /// metrics label them "other".
    public static let knownResultTypes: Set<String> = [
        "starttls-not-supported", "certificate-host-mismatch", "certificate-expired", "certificate-not-trusted", "validation-failure",
        "tlsa-invalid", "dnssec-invalid", "dane-required", "sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
    ]
}

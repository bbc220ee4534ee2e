/// One verdict of `platformctl doctor`: a check of one domain (or one of its MX hosts), whether it
/// passed, and if not why and what to change. Reasons and fixes are written for the operator reading them.
public struct DoctorFinding: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable, Comparable {
        case pass, warn, fail

        private var rank: Int { self == .pass ? 0 : self == .warn ? 1 : 2 }
        public static func < (lhs: Status, rhs: Status) -> Bool { lhs.rank < rhs.rank }
    }

    /// caa, dnssec, mta-sts, dane, tlsrpt, dmarc or wkd.
    public let check: String
    public let status: Status
    /// What within the domain was checked when it is not the domain itself (an MX host and address, a URL).
    public let subject: String?
    public let reason: String
    /// What to change, zone lines included where that is the fix.
    public let fix: String?

    public init(_ check: String, _ status: Status, subject: String? = nil, _ reason: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.subject = subject
        self.reason = reason
        self.fix = fix
    }
}

/// Everything `platformctl doctor` found about one domain.
public struct DomainDiagnosis: Sendable, Codable, Equatable {
    public let domain: String
    public let findings: [DoctorFinding]
    /// The worst finding's status.
    public var status: DoctorFinding.Status { findings.map(\.status).max() ?? .pass }

    public init(domain: String, findings: [DoctorFinding]) {
        self.domain = domain
        self.findings = findings
    }
}

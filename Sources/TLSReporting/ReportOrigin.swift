/// Whether a report's origin was authenticated. RFC 8460 §5.3 says reports by mail without a valid
/// DKIM signature of the reporting domain must be ignored; until Palisade verifies DKIM itself (the
/// DMARC milter issue brings a verifier), mail reports are stored as `unverified` and left out of alerts and
/// metrics. Reports over HTTPS are `https`: RFC 8460 asks nothing more of them, so they count although
/// anyone can send one (the intake takes only reports about our own domains).
public enum ReportOrigin: String, Sendable, Codable, CaseIterable {
    case https
    case mailUnverified = "mail-unverified"
    case mailVerified = "mail-verified"

    /// Whether its sessions count in metrics and the failure-rate warning.
    public var alerting: Bool { self != .mailUnverified }
}

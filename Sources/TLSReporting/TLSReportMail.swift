import Foundation

/// A report delivered by mail (RFC 8460 §5.3): an RFC 5322 message, normally `multipart/report;
/// report-type=tlsrpt`, with the report attached as `application/tlsrpt+gzip` or `+json`. Reading it
/// finds that attachment and keeps what identifies the message; it does not judge its DKIM signature
/// (see `DKIMStatus`).
public struct TLSReportMail: Sendable {
    /// The biggest message read; more is refused before parsing.
    public static func maxMessageSize(_ limits: TLSReportPayload.Limits) -> Int {
        // Base64 grows the attachment by 4/3, line breaks and the other parts add a little.
        limits.compressed * 3 / 2 + 256 * 1024
    }

    public var payload: TLSReportPayload
    public var envelope: Envelope

    /// What the message says about itself, stored beside the report for the operator.
    public struct Envelope: Sendable, Equatable, Codable {
        public var from: String?
        public var subject: String?
        public var messageID: String?
        /// RFC 8460 §5.3's `TLS-Report-Domain` and `TLS-Report-Submitter` header fields.
        public var reportDomain: String?
        public var reportSubmitter: String?
        /// The `d=` of each DKIM-Signature, as claimed (not verified).
        public var dkimDomains: [String]
    }

    public init(parsing message: [UInt8], limits: TLSReportPayload.Limits) throws(TLSReportError) {
        let maximum = Self.maxMessageSize(limits)
        guard message.count <= maximum else {
            throw TLSReportError(.tooLarge, "the message is \(message.count) bytes; at most \(maximum) are read")
        }
        guard !message.isEmpty else { throw TLSReportError(.invalid, "the message is empty") }
        let root = try MIMEEntity(parsing: message[...])
        guard root.field("from") != nil || root.field("subject") != nil || root.field("content-type") != nil else {
            throw TLSReportError(.invalid, "this is not a mail message: no From, Subject or Content-Type header field")
        }
        var found: (format: TLSReportPayload.Format, entity: MIMEEntity)?
        for leaf in try root.leaves() {
            if let format = TLSReportPayload.Format(mediaType: leaf.contentType.type) {
                guard found == nil else { throw TLSReportError(.invalid, "the message carries more than one report") }
                found = (format, leaf)
            }
        }
        guard let found else {
            let types = (try? root.leaves().map(\.contentType.type)) ?? []
            throw TLSReportError(.unsupportedMediaType,
                                 "no application/tlsrpt+gzip or application/tlsrpt+json part in the message (parts: \(types.joined(separator: ", ")))")
        }
        payload = TLSReportPayload(format: found.format, bytes: try found.entity.decodedBody())
        envelope = Envelope(
            from: root.field("from").map { String($0.prefix(256)) },
            subject: root.field("subject").map { String($0.prefix(512)) },
            messageID: root.field("message-id").map { String($0.prefix(256)) },
            reportDomain: root.field("tls-report-domain").map { String($0.prefix(256)) },
            reportSubmitter: root.field("tls-report-submitter").map { String($0.prefix(256)) },
            dkimDomains: root.fields("dkim-signature").compactMap(Self.signingDomain))
    }

    /// The `d=` tag of a DKIM-Signature field (RFC 6376 §3.5), lower case.
    static func signingDomain(_ signature: String) -> String? {
        for tag in signature.split(separator: ";") {
            let parts = tag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "d" else { continue }
            return String(parts[1].filter { !$0.isWhitespace }.lowercased().prefix(253))
        }
        return nil
    }
}

/// Whether a report's origin was authenticated. RFC 8460 §5.3 says reports by mail without a valid
/// DKIM signature of the reporting domain must be ignored; until Palisade verifies DKIM itself (the
/// DMARC issue brings a verifier), mail reports are stored as `unverified` and left out of alerts and
/// metrics. Reports over HTTPS are `https`: RFC 8460 asks nothing more of them.
public enum ReportOrigin: String, Sendable, Codable, CaseIterable {
    case https
    case mailUnverified = "mail-unverified"
    case mailVerified = "mail-verified"

    /// Whether its sessions count in metrics and the failure-rate warning.
    public var alerting: Bool { self != .mailUnverified }
}

import Foundation

/// A report delivered by mail (RFC 8460 §5.3): an RFC 5322 message, normally `multipart/report;
/// report-type=tlsrpt`, with the report attached as `application/tlsrpt+gzip` or `+json`. Reading it
/// finds that attachment and keeps what identifies the message; it does not judge its DKIM signature
/// (see `ReportOrigin`).
public struct TLSReportMail: Sendable {
    /// The biggest message read; more is refused before parsing.
    public static func maxMessageSize(_ limits: TLSReportPayload.Limits) -> Int {
        // The attachment is gzip or plain JSON; base64 grows it by 4/3, line breaks and the other parts add a little.
        max(limits.compressed, limits.json) * 3 / 2 + 256 * 1024
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
        let leaves = try root.leaves()
        for leaf in leaves {
            if let format = TLSReportPayload.Format(mediaType: leaf.contentType.type) {
                guard found == nil else { throw TLSReportError(.invalid, "the message carries more than one report") }
                found = (format, leaf)
            }
        }
        guard let found else {
            var types: [String] = []
            for type in leaves.map(\.contentType.type) where !types.contains(type) && types.count < 10 { types.append(String(type.prefix(80))) }
            throw TLSReportError(.unsupportedMediaType,
                                 "no application/tlsrpt+gzip or application/tlsrpt+json part in the message (parts: \(types.joined(separator: ", ")))")
        }
        payload = TLSReportPayload(format: found.format, bytes: try found.entity.decodedBody())
        func kept(_ name: String, _ length: Int) -> String? {
            // Control characters (a NUL cannot even be stored) are dropped; the rest is cut to `length`.
            root.field(name).map { String(String.UnicodeScalarView($0.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }).prefix(length)) }
        }
        envelope = Envelope(
            from: kept("from", 256), subject: kept("subject", 512), messageID: kept("message-id", 256),
            reportDomain: kept("tls-report-domain", 256), reportSubmitter: kept("tls-report-submitter", 256),
            dkimDomains: root.fields("dkim-signature").prefix(10).compactMap(Self.signingDomain))
    }

    /// The `d=` tag of a DKIM-Signature field (RFC 6376 §3.5), lower case.
    static func signingDomain(_ signature: String) -> String? {
        for tag in signature.split(separator: ";") {
            let parts = tag.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "d" else { continue }
            let visible = parts[1].unicodeScalars.filter { $0.value > 0x20 && $0.value != 0x7F }
            return String(String(String.UnicodeScalarView(visible)).lowercased().prefix(253))
        }
        return nil
    }
}

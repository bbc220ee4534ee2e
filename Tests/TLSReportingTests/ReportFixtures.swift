import CompressNIO
import Foundation
import NIOCore

/// Reports and mails the tests read: RFC 8460's own example, and what a real generator (sys4's
/// tlsrpt-reporter 0.6.0 from PyPI, fed by libtlsrpt-format datagrams) sent by HTTPS and by mail.
enum ReportFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// RFC 8460 Appendix B with its URL repaired (its verbatim text has a line break inside a string).
    static func rfcExample() throws -> [UInt8] { try bytes("rfc8460-appendix-b.json") }

    /// The RFC example as a mutable JSON object, for making broken variants.
    static func rfcObject() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(rfcExample())) as! [String: Any]
    }

    static func json(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let compressed = try buffer.compress(with: .gzip())
        return Array(compressed.readableBytesView)
    }

    /// A report with the given identity and counts about `domain`, as an HTTPS reporter would send it.
    static func report(id: String, organization: String = "Reporter Inc.", domain: String, day: String = "2026-11-28",
                       successful: Int = 90, failures: [(type: String, mx: String, count: Int)] = [("certificate-expired", "mx1.example", 10)],
                       policyType: String = "sts") -> [UInt8] {
        let details = failures.map { failure in
            """
            {"result-type": "\(failure.type)", "sending-mta-ip": "192.0.2.1", "receiving-mx-hostname": "\(failure.mx)", "failed-session-count": \(failure.count)}
            """
        }
        return Array("""
            {"organization-name": "\(organization)", "date-range": {"start-datetime": "\(day)T00:00:00Z", "end-datetime": "\(day)T23:59:59Z"},
             "contact-info": "tlsrpt@reporter.example", "report-id": "\(id)",
             "policies": [{"policy": {"policy-type": "\(policyType)", "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.example", "max_age: 86400"],
                                      "policy-domain": "\(domain)", "mx-host": ["mx1.example"]},
                           "summary": {"total-successful-session-count": \(successful), "total-failure-session-count": \(failures.reduce(0) { $0 + $1.count })},
                           "failure-details": [\(details.joined(separator: ","))]}]}
            """.utf8)
    }

    /// A report mail as RFC 8460 §5.3 describes it, with CRLF or LF line ends.
    static func mail(attachment: [UInt8], type: String = "application/tlsrpt+gzip", lineEnd: String = "\r\n", extraHeader: String = "") -> [UInt8] {
        let encoded = Data(attachment).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
            .replacingOccurrences(of: "\n", with: lineEnd)
        let lines = [
            "From: tlsrpt@reporter.example", "To: tlsrpt@mail.example", "Subject: Report Domain: mail.example Submitter: reporter.example Report-ID: <1@reporter.example>",
            "TLS-Report-Domain: mail.example", "TLS-Report-Submitter: reporter.example",
            "DKIM-Signature: v=1; a=rsa-sha256; d=reporter.example; s=tlsrpt;", "  h=from:to:subject; bh=x; b=y",
            "MIME-Version: 1.0", "Content-Type: multipart/report; report-type=\"tlsrpt\";", "\tboundary=\"----=_b1\"",
        ] + (extraHeader.isEmpty ? [] : [extraHeader]) + [
            "", "This is a MIME message.", "------=_b1", "Content-Type: text/plain; charset=us-ascii", "", "A TLS report.", "",
            "------=_b1", "Content-Type: \(type)", "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment; filename=\"reporter.example!mail.example!1795824000!1795910399.json.gz\"", "",
            encoded, "------=_b1--", "",
        ]
        return Array(lines.joined(separator: lineEnd).utf8)
    }
}

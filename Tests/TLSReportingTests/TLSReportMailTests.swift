import Foundation
import Testing
@testable import TLSReporting

/// Reports by mail (RFC 8460 §5.3): the attachment found in the MIME tree, whatever the line ends and
/// transfer encoding; a message without exactly one report refused.
@Suite("TLS report mail")
struct TLSReportMailTests {
    let limits = TLSReportPayload.Limits(compressed: 64 * 1024, json: 1024 * 1024)

    @Test("A mail from tlsrpt-reporter (a real generator): the gzip attachment, the TLS-Report-* header fields")
    func realGenerator() throws {
        let mail = try TLSReportMail(parsing: ReportFixtures.bytes("tlsrpt-reporter-mail.eml"), limits: limits)
        #expect(mail.payload.format == .gzip)
        #expect(mail.envelope.reportDomain == "dane.example")
        #expect(mail.envelope.reportSubmitter == "sender.example")
        #expect(mail.envelope.from == "tlsrpt-noreply@sender.example")
        #expect(mail.envelope.subject?.contains("Report-ID: <2026-11-28T00:00:00Z_idx1_dane.example@sender.example>") == true)
        #expect(mail.envelope.dkimDomains.isEmpty)
        let report = try TLSReport.parse(json: mail.payload.json(limits: limits))
        #expect(report.policies.map(\.policyType) == [.tlsa])
        #expect(report.policies[0].failureDetails.map(\.resultType) == ["tlsa-invalid"])
    }

    @Test("CRLF or LF, folded header fields, the DKIM d= claimed")
    func lineEnds() throws {
        let gzipped = try ReportFixtures.gzip(ReportFixtures.rfcExample())
        for lineEnd in ["\r\n", "\n"] {
            let mail = try TLSReportMail(parsing: ReportFixtures.mail(attachment: gzipped, lineEnd: lineEnd), limits: limits)
            #expect(try mail.payload.json(limits: limits) == ReportFixtures.rfcExample())
            #expect(mail.envelope.dkimDomains == ["reporter.example"])
            #expect(mail.envelope.reportDomain == "mail.example")
        }
    }

    @Test("A JSON report in quoted-printable, inside a multipart/mixed inside the report")
    func nestedQuotedPrintable() throws {
        let json = String(decoding: try ReportFixtures.rfcExample(), as: UTF8.self)
        // Quoted-printable: '=' written =3D, long lines broken with soft line breaks.
        let encoded = json.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: "\n", with: "=\n")
        let message = """
            From: reporter@example.org
            Subject: report
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/report; report-type=tlsrpt; boundary="inner"

            --inner
            Content-Type: text/plain

            hello
            --inner
            Content-Type: application/tlsrpt+json
            Content-Transfer-Encoding: quoted-printable

            \(encoded)
            --inner--
            --outer--

            """
        let mail = try TLSReportMail(parsing: Array(message.utf8), limits: limits)
        #expect(mail.payload.format == .json)
        #expect(try TLSReport.parse(json: mail.payload.json(limits: limits)) == TLSReport.parse(json: ReportFixtures.rfcExample()))
    }

    @Test("A saved mail's mbox From line, base64 without its padding, a quoted-printable soft break after spaces, a line that only starts like the boundary")
    func lenientReading() throws {
        let gzipped = try ReportFixtures.gzip(ReportFixtures.rfcExample())
        var unpadded = Data(gzipped).base64EncodedString()
        while unpadded.hasSuffix("=") { unpadded.removeLast() }
        let base64Mail = "From reporter@example.org Sat Nov 28 00:00:00 2026\nFrom: reporter@example.org\nContent-Type: multipart/report; boundary=\"b\"\n\n"
            + "--b\nContent-Type: text/plain\n\n--bx is not the boundary\n--b\nContent-Type: application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n"
            + unpadded + "\n--b--\n"
        #expect(try TLSReportMail(parsing: Array(base64Mail.utf8), limits: limits).payload.json(limits: limits) == ReportFixtures.rfcExample())
        let qp = "From: r@example.org\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: quoted-printable\n\n{\"a\"=  \n: 1}"
        #expect(try TLSReportMail(parsing: Array(qp.utf8), limits: limits).payload.bytes == Array("{\"a\": 1}".utf8))
        // A soft break as the part's last line: its line end belongs to the delimiter that follows.
        let qpLast = "From: r@example.org\nContent-Type: multipart/report; boundary=b\n\n--b\nContent-Type: application/tlsrpt+json\n"
            + "Content-Transfer-Encoding: quoted-printable\n\n{\"a\": 1}=\n--b--\n"
        #expect(try TLSReportMail(parsing: Array(qpLast.utf8), limits: limits).payload.bytes == Array("{\"a\": 1}".utf8))
    }

    @Test("Parts are counted over the whole message: many small multiparts nested are refused")
    func partBudget() {
        // 30 parts at each of two levels: 930 parts in all, each level under the limit alone.
        let inner = "Content-Type: multipart/mixed; boundary=i\n\n" + String(repeating: "--i\nContent-Type: text/plain\n\nx\n", count: 30) + "--i--\n"
        let message = "From: r@example.org\nContent-Type: multipart/mixed; boundary=o\n\n" + String(repeating: "--o\n" + inner, count: 30) + "--o--\n"
        let error = #expect(throws: TLSReportError.self) { try TLSReportMail(parsing: Array(message.utf8), limits: limits) }
        #expect(error?.message.contains("more than 256 MIME parts") == true, "\(error?.message ?? "")")
    }

    @Test("No report in the mail, two reports, a broken base64 body, not a mail, too big: each refused with its reason")
    func refused() throws {
        let gzipped = try ReportFixtures.gzip(ReportFixtures.rfcExample())
        let noReport = ReportFixtures.mail(attachment: gzipped, type: "application/octet-stream")
        let two = String(decoding: ReportFixtures.mail(attachment: gzipped), as: UTF8.self)
            .replacingOccurrences(of: "------=_b1--", with: "------=_b1\r\nContent-Type: application/tlsrpt+json\r\n\r\n{}\r\n------=_b1--")
        // One character more than a whole base64 quantum can never be padded into one.
        let badBase64 = String(decoding: ReportFixtures.mail(attachment: gzipped), as: UTF8.self)
            .replacingOccurrences(of: "------=_b1--", with: "A\r\n------=_b1--")
        let cases: [(String, [UInt8], TLSReportError.Kind, String)] = [
            ("no report", noReport, .unsupportedMediaType, "no application/tlsrpt+gzip or application/tlsrpt+json part"),
            ("two reports", Array(two.utf8), .invalid, "more than one report"),
            ("broken base64", Array(badBase64.utf8), .invalid, "base64"),
            ("not a mail", Array("just some text\n\nand more".utf8), .invalid, "a header line without a colon"),
            ("empty", [], .invalid, "empty"),
            ("too big", [UInt8](repeating: 0x41, count: TLSReportMail.maxMessageSize(limits) + 1), .tooLarge, "at most"),
        ]
        for (name, message, kind, text) in cases {
            let error = #expect(throws: TLSReportError.self, "\(name)") { try TLSReportMail(parsing: message, limits: limits) }
            #expect(error?.kind == kind, "\(name): \(error?.message ?? "")")
            #expect(error?.message.contains(text) == true, "\(name): \(error?.message ?? "")")
        }
    }
}

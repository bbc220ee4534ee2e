import Core
import Foundation
import Testing
@testable import TLSReporting

/// RFC 8460 §4's report format, read strictly: the types and ranges the RFC gives, errors that name the
/// member at fault, and the leniency real senders need where the RFC itself is loose.
@Suite("TLS report parsing")
struct TLSReportParsingTests {
    @Test("RFC 8460's example report: every member read, mx-host written as one string taken as a one-element array")
    func rfcExample() throws {
        let report = try TLSReport.parse(json: ReportFixtures.rfcExample())
        #expect(report.organizationName == "Company-X")
        #expect(report.reportID == "5065427c-23d3-47ca-b6e0-946ea0e8c4be")
        #expect(report.contactInfo == "sts-reporting@company-x.example")
        #expect(report.dateRange.start == Date(timeIntervalSince1970: 1_459_468_800))
        #expect(report.dateRange.end == Date(timeIntervalSince1970: 1_459_468_800 + 86_399))
        #expect(report.day == "2016-04-01")
        let policy = try #require(report.policies.first)
        #expect(policy.policyType == .sts)
        #expect(policy.policyDomain.ascii == "company-y.example")
        #expect(policy.mxHosts == ["*.mail.company-y.example"])
        #expect(policy.policyString == ["version: STSv1", "mode: testing", "mx: *.mail.company-y.example", "max_age: 86400"])
        #expect(policy.successfulSessions == 5326 && policy.failedSessions == 303)
        #expect(policy.failureDetails.map(\.resultType) == ["certificate-expired", "starttls-not-supported", "validation-failure"])
        #expect(policy.failureDetails[1].receivingIP == "203.0.113.56")
        #expect(policy.failureDetails[2].failureReasonCode == "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED")
        #expect(policy.failureDetails[0].receivingIP == nil)
    }

    @Test("The example exactly as printed in the RFC is not JSON (a line break inside a string): refused")
    func verbatimExample() throws {
        let error = #expect(throws: TLSReportError.self) { try TLSReport.parse(json: ReportFixtures.bytes("rfc8460-appendix-b-verbatim.json")) }
        #expect(error?.kind == .invalid)
        #expect(error?.message.hasPrefix("not JSON") == true)
    }

    @Test("The per-day rows: the summary's totals, and the failure details by result type and MX beside them (they may overlap)")
    func dailyCounts() throws {
        let report = try TLSReport.parse(json: ReportFixtures.rfcExample())
        let rows = report.dailyCounts.map { "\($0.detail ? "detail" : "total") \($0.resultType) \($0.receivingMX) \($0.sessions)" }
        #expect(rows == ["total failure  303", "total success  5326", "detail certificate-expired mx1.mail.company-y.example 100",
                         "detail starttls-not-supported mx2.mail.company-y.example 200", "detail validation-failure mx-backup.mail.company-y.example 3"])
        // RFC 8460 §4: result types are non-exclusive. Details that add up to more than the summary leave its total alone.
        let overlapping = Self.editPolicy(try ReportFixtures.rfcObject()) { policy in
            policy["summary"] = ["total-successful-session-count": 10, "total-failure-session-count": 5]
            policy["failure-details"] = [["result-type": "certificate-expired", "failed-session-count": 5],
                                         ["result-type": "certificate-not-trusted", "failed-session-count": 5]]
        }
        let counts = try TLSReport.parse(json: ReportFixtures.json(overlapping)).dailyCounts
        #expect(counts.first { !$0.detail && $0.resultType == TLSReport.failureResult }?.sessions == 5)
        #expect(counts.filter(\.detail).map(\.sessions) == [5, 5])
    }

    @Test("Failure rates of huge totals are computed without overflow; a day warns only with enough sessions")
    func hugeTotals() {
        let huge = TLSReportStore.DayTotals(domain: "mail.example", successful: .max, failed: .max)
        #expect(huge.failureRatio == 0.5)
        let alerting = TLSReportAlerting(failureRatio: 0.05, minimumSessions: 100)
        #expect(alerting.isAlarming(huge))
        #expect(!alerting.isAlarming(.init(domain: "mail.example", successful: 10, failed: 80)), "90 sessions are too few")
        #expect(alerting.isAlarming(.init(domain: "mail.example", successful: 90, failed: 10)))
        #expect(!alerting.isAlarming(.init(domain: "mail.example", successful: 95, failed: 5)), "5% is not over 5%")
    }

    /// Each change to the RFC example and the error it must give, naming the member. (Immutable and
    /// its closures pure: safe to read from any test.)
    nonisolated(unsafe) static let broken: [(String, ([String: Any]) -> [String: Any], String)] = [
        ("policies is an object", { var o = $0; o["policies"] = (o["policies"] as! [Any])[0]; return o }, "report.policies: is an object, not an array"),
        ("policies is empty", { var o = $0; o["policies"] = [Any](); return o }, "report.policies: is empty"),
        ("no report-id", { var o = $0; o["report-id"] = nil; return o }, "report: the required member \"report-id\" is missing"),
        ("organization-name is a number", { var o = $0; o["organization-name"] = 5; return o }, "report.organization-name: is an integer, not a string"),
        ("a date without its time", { var o = $0; o["date-range"] = ["start-datetime": "2016-04-01", "end-datetime": "2016-04-01T23:59:59Z"]; return o },
         "report.date-range.start-datetime: \"2016-04-01\" is not an RFC 3339 date-time"),
        ("a date without a time zone", { var o = $0; o["date-range"] = ["start-datetime": "2016-04-01T00:00:00", "end-datetime": "2016-04-01T23:59:59Z"]; return o },
         "is not an RFC 3339 date-time"),
        ("a date before 2000 (found by the fuzzer: it did not survive storing)",
         { var o = $0; o["date-range"] = ["start-datetime": "0438-04-01T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"]; return o },
         "report.date-range.start-datetime: \"0438-04-01T00:00:00Z\" is not a date a report can be about"),
        ("the end before the start", { var o = $0; o["date-range"] = ["start-datetime": "2016-04-02T00:00:00Z", "end-datetime": "2016-04-01T23:59:59Z"]; return o },
         "end-datetime is before start-datetime"),
        ("a count as a string", { editPolicy($0) { p in p["summary"] = ["total-successful-session-count": "5326", "total-failure-session-count": 0] } },
         "report.policies[0].summary.total-successful-session-count: is a string, not an integer"),
        ("a negative count", { editPolicy($0) { p in p["summary"] = ["total-successful-session-count": -1, "total-failure-session-count": 0] } },
         "total-successful-session-count: is negative"),
        ("a count over a billion", { editPolicy($0) { p in p["summary"] = ["total-successful-session-count": 1_000_000_001, "total-failure-session-count": 0] } },
         "is 1000000001, more sessions than a report can plausibly count"),
        ("a fractional count", { editPolicy($0) { p in p["summary"] = ["total-successful-session-count": 1.5, "total-failure-session-count": 0] } },
         "is a fractional number, not an integer"),
        ("a boolean count", { editPolicy($0) { p in p["summary"] = ["total-successful-session-count": true, "total-failure-session-count": 0] } },
         "is a boolean, not an integer"),
        ("no summary", { editPolicy($0) { p in p["summary"] = nil } }, "report.policies[0]: the required member \"summary\" is missing"),
        ("an unknown policy-type", { editPolicy($0) { p in p["policy"] = ["policy-type": "mta-sts", "policy-domain": "company-y.example"] } },
         "report.policies[0].policy.policy-type: \"mta-sts\" is not tlsa, sts or no-policy-found"),
        ("no policy-domain", { editPolicy($0) { p in p["policy"] = ["policy-type": "no-policy-found"] } }, "the required member \"policy-domain\" is missing"),
        ("a policy-domain that is no domain", { editPolicy($0) { p in p["policy"] = ["policy-type": "sts", "policy-domain": "company y!"] } },
         "policy.policy-domain: \"company y!\" is not a domain name"),
        ("failure-details is an object", { editPolicy($0) { p in p["failure-details"] = ["result-type": "x", "failed-session-count": 1] } },
         "report.policies[0].failure-details: is an object, not an array"),
        ("a result-type that is no token", { editPolicy($0) { p in p["failure-details"] = [["result-type": "Bad Type", "failed-session-count": 1]] } },
         "failure-details[0].result-type: \"Bad Type\" is not a result type"),
        ("a sending-mta-ip that is no address", { editPolicy($0) { p in p["failure-details"] = [["result-type": "x", "sending-mta-ip": "999.1.1.1", "failed-session-count": 1]] } },
         "failure-details[0].sending-mta-ip: \"999.1.1.1\" is not an IP address"),
        ("a failure without its count", { editPolicy($0) { p in p["failure-details"] = [["result-type": "validation-failure"]] } },
         "failure-details[0]: the required member \"failed-session-count\" is missing"),
        ("a NUL in a string", { var o = $0; o["organization-name"] = "Company\u{0}X"; return o }, "report.organization-name: contains a NUL character"),
        ("an unrelated object", { _ in ["x": [1]] }, "the required member"),
    ]

    static func editPolicy(_ object: [String: Any], _ edit: (inout [String: Any]) -> Void) -> [String: Any] {
        var object = object
        var policies = object["policies"] as! [[String: Any]]
        edit(&policies[0])
        object["policies"] = policies
        return object
    }

    @Test("Wrong types, missing required members and values out of range are refused, the error naming the member",
          arguments: 0..<broken.count)
    func refused(_ index: Int) throws {
        let (name, edit, expected) = Self.broken[index]
        let bytes = try ReportFixtures.json(edit(try ReportFixtures.rfcObject()))
        let error = #expect(throws: TLSReportError.self, "\(name)") { try TLSReport.parse(json: bytes) }
        #expect(error?.kind == .invalid)
        #expect(error?.message.contains(expected) == true, "\(name): \(error?.message ?? "")")
    }

    @Test("Not JSON at all, or JSON that is not an object: refused")
    func notJSON() {
        for text in ["", "{", "[1, 2]", "null", "\"report\"", "{\"a\": 1} trailing"] {
            let error = #expect(throws: TLSReportError.self, "\(text)") { try TLSReport.parse(json: Array(text.utf8)) }
            #expect(error?.kind == .invalid)
        }
    }

    @Test("What real senders leave out is accepted: contact-info, policy-string, mx-host, failure-details; unknown members are ignored")
    func lenientWhereSendersAre() throws {
        var object = try ReportFixtures.rfcObject()
        object["contact-info"] = nil
        object["x-vendor-extension"] = ["anything": true]
        object = Self.editPolicy(object) { policy in
            policy["policy"] = ["policy-type": "no-policy-found", "policy-domain": "Company-Y.Example."]
            policy["failure-details"] = nil
        }
        let report = try TLSReport.parse(json: ReportFixtures.json(object))
        #expect(report.contactInfo == "")
        #expect(report.policies[0].policyDomain.ascii == "company-y.example")
        #expect(report.policies[0].mxHosts.isEmpty && report.policies[0].policyString.isEmpty && report.policies[0].failureDetails.isEmpty)
        // Empty strings for unknown hosts and addresses are read as absent; long free text is cut, not refused.
        let sparse = Self.editPolicy(try ReportFixtures.rfcObject()) { policy in
            policy["failure-details"] = [["result-type": "validation-failure", "failed-session-count": 1, "receiving-mx-hostname": "", "sending-mta-ip": "",
                                          "failure-reason-code": String(repeating: "x", count: 5000)]]
        }
        let detail = try #require(try TLSReport.parse(json: ReportFixtures.json(sparse)).policies[0].failureDetails.first)
        #expect(detail.receivingMXHostname == nil && detail.sendingMTAIP == nil && detail.failureReasonCode?.utf8.count == 1024)
        // Failures counted but not detailed are still failures.
        #expect(report.dailyCounts.map(\.resultType) == ["failure", "success"])
    }

    @Test("The stored (normalised) form parses to the same report")
    func normalisedRoundTrip() throws {
        let fraction = String(decoding: try ReportFixtures.rfcExample(), as: UTF8.self).replacingOccurrences(of: "00:00:00Z", with: "00:00:00.75+01:00")
        for bytes in [try ReportFixtures.rfcExample(), ReportFixtures.report(id: "r1", domain: "mail.example"), Array(fraction.utf8)] {
            let report = try TLSReport.parse(json: bytes)
            #expect(try TLSReport.parse(json: report.normalisedJSON()) == report)
        }
    }

    @Test("RFC 3339 date-times: fractions, offsets, lower-case t and z; no impossible dates")
    func dateTimes() {
        #expect(RFC3339.parse("2016-04-01T00:00:00Z") == Date(timeIntervalSince1970: 1_459_468_800))
        #expect(RFC3339.parse("2016-04-01t02:00:00+02:00") == Date(timeIntervalSince1970: 1_459_468_800))
        #expect(RFC3339.parse("2016-03-31T19:00:00.5-05:00") == Date(timeIntervalSince1970: 1_459_468_800.5))
        #expect(RFC3339.parse("2024-02-29T00:00:00z") != nil)
        for bad in ["2023-02-29T00:00:00Z", "2016-13-01T00:00:00Z", "2016-04-01T24:00:00Z", "2016-04-01T00:00:00", "2016-04-01T00:00:00.Z",
                    "2016-04-01T00:00:00+0200", "16-04-01T00:00:00Z", "2016-04-01T00:00:00Z ", ""] {
            #expect(RFC3339.parse(bad) == nil, "\(bad)")
        }
    }
}

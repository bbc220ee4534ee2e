// The libFuzzer target for TLS reports (RFC 8460) as they arrive from outside: the report JSON, its gzip,
// and the mail that carries it, all on hostile bytes.
//
//   Fuzz/run.sh tlsrpt [SECONDS]      build with libFuzzer and the address sanitizer and fuzz, seeded from
//                                     Tests/TLSReportingTests/Fixtures (RFC 8460's example, tlsrpt-reporter's POST and mail)
//
// Built normally (without FUZZING), it is a replayer: `TLSReportFuzzer FILE…`.
import FuzzSupport
import TLSReporting

let limits = TLSReportPayload.Limits(compressed: 64 * 1024, json: 256 * 1024)

func checkReport(_ json: [UInt8]) {
    guard let report = try? TLSReport.parse(json: json) else { return }
    precondition(!report.policies.isEmpty && report.dateRange.end >= report.dateRange.start, "a parsed report is whole")
    // What is stored parses back to the same report.
    precondition((try? TLSReport.parse(json: report.normalisedJSON())) == report, "the normalised form round-trips")
    // The aggregate's totals are the summaries, and its details the failure details, each session once.
    let counted = report.dailyCounts.reduce(Int64(0)) { $0 + $1.sessions }
    let expected = report.policies.reduce(Int64(0)) { sum, policy in
        sum + policy.successfulSessions + policy.failedSessions + policy.failureDetails.reduce(0) { $0 + $1.failedSessions }
    }
    precondition(counted == expected, "daily counts \(counted) != sessions \(expected)")
}

func fuzzOne(_ bytes: [UInt8]) {
    checkReport(bytes)
    if let json = try? TLSReportPayload(format: .gzip, bytes: bytes).json(limits: limits) {
        precondition(json.count <= limits.json, "decompression stops at the limit")
        checkReport(json)
    }
    if let mail = try? TLSReportMail(parsing: bytes, limits: limits), let json = try? mail.payload.json(limits: limits) {
        precondition(json.count <= limits.json, "a mail's report is within the limit")
        checkReport(json)
    }
}

@main
struct Entry {
    static func main() {
        FuzzEntry.run(fuzzOne)
    }
}

import Metrics

/// TLSRPT's Prometheus series. Labels stay bounded: policy domains are ours (intake refuses others) and
/// result types outside RFC 8460's registry are labelled `other`.
public enum TLSReportMetrics {
    /// Reports received, by origin and outcome (stored, duplicate, or the refusal's kind).
    public static func received(origin: ReportOrigin, outcome: String) {
        Counter(label: "palisade_tlsrpt_reports_total", dimensions: [("origin", origin.rawValue), ("outcome", outcome)]).increment()
    }

    /// Sessions of reports that count for alerts, by policy domain, policy type and result (`success`,
    /// a result type, `unspecified` or `other`).
    static func counted(_ report: TLSReport) {
        for row in report.dailyCounts {
            let known = row.resultType == TLSReport.successResult || row.resultType == TLSReport.unspecifiedResult
                || TLSReport.knownResultTypes.contains(row.resultType)
            Counter(label: "palisade_tlsrpt_sessions_total", dimensions: [
                ("policy_domain", row.policyDomain), ("policy_type", row.policyType), ("result", known ? row.resultType : "other"),
            ]).increment(by: row.sessions)
        }
    }

    /// Failed sessions over all sessions of the domain's latest reported day.
    static func failureRatio(domain: String) -> Gauge {
        Gauge(label: "palisade_tlsrpt_failure_ratio", dimensions: [("policy_domain", domain)])
    }
}

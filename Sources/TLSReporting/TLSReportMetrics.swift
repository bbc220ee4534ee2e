import Metrics

/// TLSRPT's Prometheus series. Labels stay bounded: policy domains are ours (intake refuses others) and
/// result types outside RFC 8460's registry are labelled `other`.
public enum TLSReportMetrics {
    /// Reports received, by origin and outcome (stored, duplicate, or the refusal's kind).
    public static func received(origin: ReportOrigin, outcome: String) {
        Counter(label: "palisade_tlsrpt_reports_total", dimensions: [("origin", origin.rawValue), ("outcome", outcome)]).increment()
    }

    /// Sessions of reports that count for alerts: `palisade_tlsrpt_sessions_total{result}` from the reports'
    /// summaries (`success`, `failure`), `palisade_tlsrpt_failure_details_total{result}` from their failure
    /// details (a result type, or `other` outside RFC 8460's registry; details may overlap).
    static func counted(_ report: TLSReport) {
        for row in report.dailyCounts {
            if row.detail {
                Counter(label: "palisade_tlsrpt_failure_details_total", dimensions: [
                    ("policy_domain", row.policyDomain), ("policy_type", row.policyType),
                    ("result", TLSReport.knownResultTypes.contains(row.resultType) ? row.resultType : "other"),
                ]).increment(by: row.sessions)
            } else {
                Counter(label: "palisade_tlsrpt_sessions_total", dimensions: [
                    ("policy_domain", row.policyDomain), ("policy_type", row.policyType), ("result", row.resultType),
                ]).increment(by: row.sessions)
            }
        }
    }

    /// Failed sessions over all sessions of the day the domain's last processed report covered.
    static func failureRatio(domain: String) -> Gauge {
        Gauge(label: "palisade_tlsrpt_failure_ratio", dimensions: [("policy_domain", domain)])
    }
}

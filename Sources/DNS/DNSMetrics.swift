import Metrics

/// Prometheus series for look-ups: counts by type and result, and the time fresh resolutions took.
enum DNSMetrics {
    static func record(type: DNSRecordType, result: String, cached: Bool, duration: Duration?) {
        Counter(label: "palisade_dns_lookups_total", dimensions: [("type", "\(type)"), ("result", result), ("cached", cached ? "true" : "false")]).increment()
        if let duration {
            Metrics.Timer(label: "palisade_dns_lookup_duration_seconds", dimensions: [("type", "\(type)")]).recordNanoseconds(
                duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
        }
    }
}

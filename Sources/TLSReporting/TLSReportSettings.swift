import Core

/// The `tlsrpt.*` settings: where palisade-transport takes reports, how big they may be, when their
/// failure rate is worth a warning, and how long they are kept. `platformctl tlsrpt` reads them too.
public enum TLSReportSettings {
    public static let path = ConfigSetting.string(
        "tlsrpt.path", default: "/v1/tlsrpt",
        "Path at which palisade-transport takes TLS reports by HTTPS POST (application/tlsrpt+gzip or +json), on transport.http and transport.https; publish https://<host><path> as the rua of _smtp._tls. Empty: no intake over HTTP.",
        validate: { $0.isEmpty || ($0.hasPrefix("/") && !$0.contains("?") && !$0.contains("#")) ? nil : "not an absolute path such as /v1/tlsrpt" }
    )
    public static let maxCompressedSize = ConfigSetting.int(
        "tlsrpt.maxCompressedSize", default: 2 * 1024 * 1024,
        "Largest gzipped report taken, in bytes (a request or mail attachment over it is refused before it is read).", range: 1024...(256 * 1024 * 1024)
    )
    public static let maxReportSize = ConfigSetting.int(
        "tlsrpt.maxReportSize", default: 10 * 1024 * 1024,
        "Largest report JSON taken, in bytes, after decompression (RFC 8460 notes ten megabytes as a common receiver limit); decompression stops there, so a gzip bomb costs no more.",
        range: 1024...(1024 * 1024 * 1024)
    )
    public static let maxConcurrent = ConfigSetting.int(
        "tlsrpt.maxConcurrent", default: 4,
        "Reports palisade-transport reads and stores at once; more get 503 with Retry-After (reporters retry), so a flood of reports cannot take the CPU or memory the socketmap needs.",
        range: 1...256
    )
    public static let alertFailurePercent = ConfigSetting.string(
        "tlsrpt.alert.failurePercent", default: "5",
        "A policy domain whose failed sessions on a day exceed this percentage of its sessions is logged as a warning (and shown by the palisade_tlsrpt_failure_ratio gauge).",
        validate: { Double($0).map { $0 > 0 && $0 <= 100 } == true ? nil : "not a percentage above 0 and at most 100, such as 5 or 0.5" }
    )
    public static let alertMinimumSessions = ConfigSetting.int(
        "tlsrpt.alert.minimumSessions", default: 100,
        "Sessions a domain needs on a day before its failure rate can warn (a handful of sessions says little).", range: 1...1_000_000_000
    )
    public static let retention = ConfigSetting.duration(
        "tlsrpt.retention", default: .seconds(400 * 86_400),
        "Reports are deleted this long after they arrived (tlsrpt.prune, daily); the per-day aggregates are kept.",
        range: .seconds(86_400)...Duration.seconds(10 * 365 * 86_400)
    )

    public static let all: [any AnyConfigSetting] = [path, maxCompressedSize, maxReportSize, maxConcurrent, alertFailurePercent, alertMinimumSessions, retention]

    public static func limits(_ config: PalisadeConfiguration) -> TLSReportPayload.Limits {
        TLSReportPayload.Limits(compressed: maxCompressedSize.read(config), json: maxReportSize.read(config))
    }

    public static func alerting(_ config: PalisadeConfiguration) -> TLSReportAlerting {
        TLSReportAlerting(failureRatio: (Double(alertFailurePercent.read(config)) ?? 5) / 100, minimumSessions: Int64(alertMinimumSessions.read(config)))
    }
}

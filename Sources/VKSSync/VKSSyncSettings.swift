import Core

/// The `vks.*` settings of `palisade-vks-sync` (the VKS itself, its timeout and size limit are the
/// `discovery.*` settings the keystore's look-ups use).
public enum VKSSyncSettings {
    public static let listenHost = ConfigSetting.string(
        "vks.http.host", default: "127.0.0.1", "Address of the listener for /healthz and /metrics."
    )
    public static let listenPort = ConfigSetting.int(
        "vks.http.port", default: 8466, "TCP port of the listener for /healthz and /metrics (0: any free port, logged at start).", range: 0...65535
    )
    public static let refreshInterval = ConfigSetting.duration(
        "vks.refreshInterval", default: .seconds(86_400),
        "How often every stored key is asked of the VKS (each spread by up to a quarter either way, so they do not fall due together).",
        range: .seconds(600)...Duration.seconds(90 * 86_400)
    )
    public static let recentRefreshInterval = ConfigSetting.duration(
        "vks.recentRefreshInterval", default: .seconds(6 * 3_600),
        "How often a key used within vks.recentUse (checked as a signer through the keystore) is asked instead.",
        range: .seconds(300)...Duration.seconds(90 * 86_400)
    )
    public static let recentUse = ConfigSetting.duration(
        "vks.recentUse", default: .seconds(7 * 86_400), "How recently a key must have been used to be refreshed at vks.recentRefreshInterval.",
        range: .seconds(0)...Duration.seconds(365 * 86_400)
    )
    public static let requestsPerMinute = ConfigSetting.int(
        "vks.requestsPerMinute", default: 120,
        "Most requests per minute this process sends the VKS, evenly spaced (keys.openpgp.org allows about 5 a second per client by fingerprint).",
        range: 1...6_000
    )
    public static let workers = ConfigSetting.int(
        "vks.workers", default: 2, "vks.refresh jobs handled at once: the requests in flight to the VKS from this process.", range: 1...32
    )
    public static let scheduleInterval = ConfigSetting.duration(
        "vks.scheduleInterval", default: .seconds(300),
        "How often due keys are queued for a refresh (one instance does it), spread over the interval.",
        range: .seconds(10)...Duration.seconds(86_400)
    )
    public static let staleAfter = ConfigSetting.duration(
        "vks.staleAfter", default: .seconds(3 * 86_400),
        "A key whose last VKS answer is older than this is reported stale (its status stays as it was).",
        range: .seconds(600)...Duration.seconds(365 * 86_400)
    )

    public static let all: [any AnyConfigSetting] = [
        listenHost, listenPort, refreshInterval, recentRefreshInterval, recentUse, requestsPerMinute, workers, scheduleInterval, staleAfter,
    ]
}

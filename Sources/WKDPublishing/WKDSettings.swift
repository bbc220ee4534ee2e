import Core

/// The `wkd.*` settings of `palisade-wkd`.
public enum WKDSettings {
    public static let listenHost = ConfigSetting.string(
        "wkd.http.host", default: "127.0.0.1",
        "Address the plain-HTTP listener binds (WKD behind a TLS-terminating proxy, /healthz and /metrics). Loopback unless the proxy is elsewhere."
    )
    public static let listenPort = ConfigSetting.int(
        "wkd.http.port", default: 8464, "TCP port of the plain-HTTP listener (0: any free port, logged at start).", range: 0...65535
    )
    public static let workers = ConfigSetting.int(
        "wkd.workers", default: 4, "wkd.refresh jobs handled at once.", range: 1...64
    )
    public static let reconcileInterval = ConfigSetting.duration(
        "wkd.reconcileInterval", default: .seconds(3_600),
        "How often every entry is recomputed from the tables (repairs anything a lost job left behind; one instance does it).",
        range: .seconds(60)...Duration.seconds(7 * 86_400)
    )
    public static let reloadInterval = ConfigSetting.duration(
        "wkd.reloadInterval", default: .seconds(300),
        "How often each instance reloads every entry into memory besides the NOTIFY of each change.",
        range: .seconds(10)...Duration.seconds(86_400)
    )

    public static let all: [any AnyConfigSetting] = [listenHost, listenPort, workers, reconcileInterval, reloadInterval]
}

/// The jobs the publisher handles: `wkd.refresh {address}` (Core's `WKDRefreshJob`) and the periodic
/// `wkd.reconcile`.
public enum WKDReconcileJob {
    public static let kind = "wkd.reconcile"

    public static func recurring(every interval: Duration) -> RecurringJob {
        RecurringJob(name: kind, every: interval, job: NewJob(kind: kind, queue: WKDRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }
}

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
    public static let httpsCertificates = ConfigSetting.string(
        "wkd.https.certificates", default: "",
        "Directory of certificates in certbot's layout (live/<name>/fullchain.pem and privkey.pem) for the HTTPS listener, which serves each host with the certificate whose subjectAltName names it (SNI). Empty: no HTTPS listener."
    )
    public static let httpsHost = ConfigSetting.string(
        "wkd.https.host", default: "127.0.0.1",
        "Address the HTTPS listener binds (0.0.0.0 or :: to serve the Internet directly)."
    )
    public static let httpsPort = ConfigSetting.int(
        "wkd.https.port", default: 8465,
        "TCP port of the HTTPS listener (443 to serve clients directly: the unit then needs CAP_NET_BIND_SERVICE, see README.md; 0: any free port, logged at start).",
        range: 0...65535
    )
    public static let httpsReloadInterval = ConfigSetting.duration(
        "wkd.https.reloadInterval", default: .seconds(300),
        "How often the certificates directory is read again (also on SIGHUP: `systemctl reload palisade-wkd`, e.g. from certbot's deploy hook).",
        range: .seconds(5)...Duration.seconds(86_400)
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

    public static let all: [any AnyConfigSetting] = [
        listenHost, listenPort, httpsCertificates, httpsHost, httpsPort, httpsReloadInterval, workers, reconcileInterval, reloadInterval,
    ]
}

/// The jobs the publisher handles: `wkd.refresh {address}` (Core's `WKDRefreshJob`) and the periodic
/// `wkd.reconcile`.
public enum WKDReconcileJob {
    public static let kind = "wkd.reconcile"

    public static func recurring(every interval: Duration) -> RecurringJob {
        RecurringJob(name: kind, every: interval, job: NewJob(kind: kind, queue: WKDRefreshJob.queue, uniqueKey: "schedule:\(kind)"))
    }
}

import Logging
import ServiceLifecycle
import UnixSignals

/// Runs one process's services the way every Palisade executable does: SIGTERM and SIGINT shut down
/// gracefully (in reverse start order) within `gracePeriod`, systemd hears `READY=1` once all services
/// are started and `STOPPING=1` when shutdown begins, and the watchdog is fed while the group runs.
public struct PalisadeServiceGroup {
    public var services: [any Service]
    public var logger: Logger
    /// Keep below the unit's `TimeoutStopSec` so systemd never has to kill us.
    public var gracePeriod: Duration
    public var notifier: SystemdNotifier
    /// When set, `READY=1` waits for it (e.g. the listener's port is bound); otherwise it follows start-up.
    public var readiness: ServiceReadiness?

    public init(services: [any Service], logger: Logger, gracePeriod: Duration = .seconds(20), notifier: SystemdNotifier = SystemdNotifier(),
                readiness: ServiceReadiness? = nil) {
        self.services = services
        self.logger = logger
        self.gracePeriod = gracePeriod
        self.notifier = notifier
        self.readiness = readiness
    }

    public func run() async throws {
        let lifecycle = SystemdLifecycleService(notifier: notifier, logger: logger, readiness: readiness)
        var configuration = ServiceGroupConfiguration(
            services: services + [lifecycle],
            gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = gracePeriod
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Added last to every group: by the time it runs, the services before it have started, so it reports
/// readiness, feeds the watchdog, and reports STOPPING=1 first when shutdown begins.
struct SystemdLifecycleService: Service {
    let notifier: SystemdNotifier
    let logger: Logger
    var readiness: ServiceReadiness?

    func run() async throws {
        if let readiness {
            let ready = (try? await cancelWhenGracefulShutdown { await readiness.wait() }) ?? false
            guard ready else {
                notifier.stopping()
                logger.info("stopping before it was ready")
                return
            }
        }
        notifier.ready(status: "running")
        logger.info("started", metadata: ["watchdog": "\(notifier.watchdogInterval.map { "\($0)" } ?? "off")"])
        // Sleeping is cancelled as soon as graceful shutdown begins, so the watchdog never delays it.
        try? await cancelWhenGracefulShutdown {
            while true {
                if notifier.watchdogInterval != nil { notifier.watchdog() }
                try await Task.sleep(for: notifier.watchdogInterval ?? .seconds(86_400))
            }
        }
        notifier.stopping()
        logger.info("stopping")
    }
}

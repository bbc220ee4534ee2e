import Logging
import ServiceLifecycle
import UnixSignals

/// Reads the HTTPS certificates again every `interval` and on SIGHUP (`systemctl reload palisade-wkd`,
/// certbot's deploy hook), so that a renewed or newly added certificate is served without a restart.
/// SIGHUP is trapped even without an HTTPS listener, so that a reload never ends the process.
public struct WKDCertificateReloader: Service {
    let certificates: WKDCertificates?
    let interval: Duration
    let logger: Logger

    public init(certificates: WKDCertificates?, interval: Duration, logger: Logger) {
        self.certificates = certificates
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let certificates = certificates
        let interval = interval
        let logger = logger
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups {
                    logger.info("SIGHUP: reloading the HTTPS certificates", metadata: ["tls.enabled": "\(certificates != nil)"])
                    certificates?.reload()
                }
            }
            if let certificates {
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { certificates.reload() }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

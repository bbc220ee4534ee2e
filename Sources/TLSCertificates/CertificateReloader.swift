import Logging
import ServiceLifecycle
import UnixSignals

/// Reads the HTTPS certificates again every `interval` and on SIGHUP (`systemctl reload palisade-wkd` or
/// `palisade-transport`, certbot's deploy hook), so that a renewed or newly added certificate is served
/// without a restart.
/// `hangups` is trapped by the executable before anything else (and even without an HTTPS listener), so
/// that a reload never ends the process. Both triggers go through one loop: reloads never overlap.
public struct CertificateReloader: Service {
    let certificates: CertificateDirectory?
    let hangups: UnixSignalsSequence
    let interval: Duration
    let logger: Logger

    public init(certificates: CertificateDirectory?, hangups: UnixSignalsSequence, interval: Duration, logger: Logger) {
        self.certificates = certificates
        self.hangups = hangups
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        let hangups = hangups
        let certificates = certificates
        let interval = interval
        let logger = logger
        let (triggers, trigger) = AsyncStream<Bool>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups { trigger.yield(true) }
            }
            if certificates != nil {
                group.addTask {
                    while (try? await Task.sleep(for: interval)) != nil { trigger.yield(false) }
                }
            }
            group.addTask {
                for await byHangup in triggers {
                    if byHangup { logger.info("SIGHUP: reloading the HTTPS certificates", metadata: ["tls.enabled": "\(certificates != nil)"]) }
                    certificates?.reload()
                }
            }
            try? await gracefulShutdown()
            trigger.finish()
            group.cancelAll()
        }
    }
}

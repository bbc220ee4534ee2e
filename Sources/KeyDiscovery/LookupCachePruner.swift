import Core
import Logging
import ServiceLifecycle

/// Deletes look-up answers a day after they expired, every `interval`, so that addresses asked about
/// once do not stay in `key_lookups` for ever. Runs in the keystore beside its API; several instances
/// pruning at once is harmless.
public struct LookupCachePruner: Service {
    let lookup: KeyLookup
    let interval: Duration
    let logger: Logger

    public init(lookup: KeyLookup, every interval: Duration = .seconds(3_600), logger: Logger) {
        self.lookup = lookup
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                do {
                    let removed = try await lookup.prune()
                    if removed > 0 { logger.info("pruned expired key look-ups", metadata: ["removed": "\(removed)"]) }
                } catch {
                    logger.warning("pruning key look-ups failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

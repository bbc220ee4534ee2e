import Core
import Logging
import ServiceLifecycle

/// Writes which domains this instance looked up (`transport_policies.used_at`) once a minute, in one
/// statement: a look-up itself only sets a flag in memory. The sweep keeps domains used within
/// `transport.proactiveWindow` fresh; pruning forgets those unused for `transport.unusedRetention`.
public struct TransportUsageRecorder: Service {
    let cache: TransportPolicyCache
    let store: TransportPolicyStore
    let interval: Duration
    let logger: Logger

    public init(cache: TransportPolicyCache, pool: PostgresPool, interval: Duration = .seconds(60), logger: Logger) {
        self.cache = cache
        store = TransportPolicyStore(pool: pool)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: interval)) != nil {
                await record()
            }
        }
        // What was used since the last write, before the process ends.
        await record()
    }

    func record() async {
        let used = cache.takeUsed()
        do {
            try await store.markUsed(used)
        } catch {
            logger.warning("recording used transport policies failed", metadata: ["domains": "\(used.count)", "error": "\(error)"])
        }
    }
}

import Core
import Logging
import MailPolicy
import ServiceLifecycle

/// Keeps an instance's `TransportPolicyCache` coherent with `transport_policies`: LISTENs on
/// `palisade_transport` (the table's trigger names each changed domain), reloads a named domain this
/// instance holds, and empties the memory copy whenever the LISTEN connection starts or comes back
/// (changes announced while it was down are lost; entries are then read back from PostgreSQL on use).
public struct TransportCacheSync: Service {
    let cache: TransportPolicyCache
    let store: TransportPolicyStore
    let listener: PostgresListener
    let logger: Logger

    public init(cache: TransportPolicyCache, pool: PostgresPool, listening configuration: PostgresConfiguration, logger: Logger) {
        self.cache = cache
        store = TransportPolicyStore(pool: pool)
        listener = PostgresListener(configuration: configuration, channels: [TransportPolicyStore.channel], logger: logger)
        self.logger = logger
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // One at a time, in order: a reload never overwrites a newer one.
                for await event in listener.events() {
                    switch event {
                    case .listening:
                        cache.removeAll()
                    case .notification(_, let domain):
                        guard cache.contains(domain) else { continue }
                        do {
                            if let entry = try await store.load(domain) { cache.replace(entry) } else { cache.remove(domain) }
                        } catch {
                            // Unreadable now: forget it, so the next look-up reads it again.
                            cache.remove(domain)
                            logger.warning("reloading a transport policy failed", metadata: ["domain": "\(domain)", "error": "\(error)"])
                        }
                    }
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }
}

import Core
import Logging
import ServiceLifecycle
import Synchronization

/// Keeps a `WKDContent` in step with `wkd_entries`: LISTENs on `palisade_wkd` (the tables' triggers
/// announce each changed address, or `domains`), reloads what a notification names, and reloads
/// everything whenever the LISTEN connection starts or comes back (notifications sent while it was down
/// are lost) and every `fullReload` interval as a safety net.
public struct WKDContentSync: Service {
    public static let channel = "palisade_wkd"

    let content: WKDContent
    let pool: PostgresPool
    let listener: PostgresListener
    let fullReload: Duration
    let logger: Logger
    /// Called after the first full load: the service is ready to answer.
    let onLoaded: @Sendable () -> Void

    public init(content: WKDContent, pool: PostgresPool, listening configuration: PostgresConfiguration, fullReload: Duration = .seconds(300),
                logger: Logger, onLoaded: @escaping @Sendable () -> Void = {}) {
        self.content = content
        self.pool = pool
        listener = PostgresListener(configuration: configuration, channels: [Self.channel], logger: logger)
        self.fullReload = fullReload
        self.logger = logger
        self.onLoaded = onLoaded
    }

    public func run() async throws {
        let loaded = FirstTime()
        /// The first successful full load makes the service ready.
        @Sendable func reloadAll() async {
            guard await load({ try await content.reloadAll(from: pool) }) else { return }
            if loaded.now() {
                logger.info("WKD content loaded", metadata: ["entries": "\(content.count)"])
                onLoaded()
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in listener.events() {
                    switch event {
                    case .listening:
                        await reloadAll()
                    case .notification(_, "domains"):
                        await load { try await content.reloadDomains(from: pool) }
                    case .notification(_, let address):
                        await load { try await content.reload(address: address, from: pool) }
                    }
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: fullReload)) != nil { await reloadAll() }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
    }

    /// Runs a reload; a failure is logged (the next event or full reload tries again). Whether it worked.
    @discardableResult
    func load(_ body: () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            logger.warning("reloading WKD content failed", metadata: ["error": "\(error)"])
            return false
        }
    }
}

/// True the first time it is asked, false after.
final class FirstTime: Sendable {
    private let done = Atomic<Bool>(false)
    func now() -> Bool { !done.exchange(true, ordering: .relaxed) }
}

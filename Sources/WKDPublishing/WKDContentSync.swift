import Core
import Logging
import ServiceLifecycle

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

    /// What the one reloading loop does next.
    enum Command: Sendable {
        case all
        case domains
        case address(String)
    }

    public func run() async throws {
        // Every reload happens in one loop, in order: a full reload that read the tables before a change
        // can never overwrite the newer state a later notification loaded. The listener's events and the
        // timer only feed the loop (unbounded, so no notification is dropped while a reload runs).
        let (commands, queue) = AsyncStream.makeStream(of: Command.self, bufferingPolicy: .unbounded)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in listener.events() {
                    switch event {
                    case .listening: queue.yield(.all)
                    case .notification(_, "domains"): queue.yield(.domains)
                    case .notification(_, let address): queue.yield(.address(address))
                    }
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: fullReload)) != nil { queue.yield(.all) }
            }
            group.addTask {
                var loaded = false
                for await command in commands {
                    switch command {
                    case .all:
                        if await load({ try await content.reloadAll(from: pool) }) {
                            if !loaded {
                                loaded = true
                                logger.info("WKD content loaded", metadata: ["entries": "\(content.count)"])
                                onLoaded()
                            }
                        } else if !loaded {
                            // Not serving yet: try again soon rather than at the next full reload.
                            Task {
                                try await Task.sleep(for: .seconds(2))
                                queue.yield(.all)
                            }
                        }
                    case .domains:
                        await load { try await content.reloadDomains(from: pool) }
                    case .address(let address):
                        await load { try await content.reload(address: address, from: pool) }
                    }
                }
            }
            try? await gracefulShutdown()
            queue.finish()
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

import Logging
import ServiceLifecycle
import Synchronization

/// One LISTEN connection per process, fanned out to every worker: each NOTIFY on `palisade_jobs` names
/// the queue that got jobs, and wakes that queue's workers at once instead of at their next poll.
public final class JobWakeups: Service, Sendable {
    public static let channel = "palisade_jobs"
    let listener: PostgresListener
    private let subscribers = Mutex<[Int: AsyncStream<String?>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init(configuration: PostgresConfiguration, logger: Logger) {
        listener = PostgresListener(configuration: configuration, channels: [Self.channel], logger: logger)
    }

    /// Queue names as jobs arrive for them; `nil` after (re)connecting, meaning "look at every queue".
    public func subscribe() -> AsyncStream<String?> {
        let (stream, continuation) = AsyncStream.makeStream(of: String?.self, bufferingPolicy: .bufferingNewest(64))
        let id = nextID.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            for await event in self.listener.events() {
                let queue: String?
                switch event {
                case .notification(_, let payload): queue = payload
                case .listening: queue = nil
                }
                self.subscribers.withLock { $0.values.forEach { $0.yield(queue) } }
            }
        }
        // finish() runs onTermination, which takes the lock: call it outside.
        let remaining = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        remaining.forEach { $0.finish() }
    }
}

import Synchronization

/// "This process can serve now": lets systemd hear `READY=1` only once, say, the HTTP listener has bound
/// its port, not merely when its services were started (`Type=notify` units order dependants on it).
public final class ServiceReadiness: Sendable {
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation
    private let waiting: Mutex<Int>

    /// Ready once `markReady()` has been called `parts` times (e.g. 2: the listener bound its port, and
    /// the content to serve is loaded).
    public init(parts: Int = 1) {
        (signals, signal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        waiting = Mutex(parts)
    }

    /// One part is ready; the last one marks the process ready. Later calls do nothing.
    public func markReady() {
        let done = waiting.withLock { waiting in
            waiting -= 1
            return waiting == 0
        }
        guard done else { return }
        signal.yield()
        signal.finish()
    }

    /// Waits until `markReady()`; false if the waiting task was cancelled first. One waiter.
    func wait() async -> Bool {
        for await _ in signals { return true }
        return !Task.isCancelled
    }
}

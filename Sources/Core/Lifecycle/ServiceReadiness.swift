/// "This process can serve now": lets systemd hear `READY=1` only once, say, the HTTP listener has bound
/// its port, not merely when its services were started (`Type=notify` units order dependants on it).
public final class ServiceReadiness: Sendable {
    private let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    public init() {
        (signals, signal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Marks the process ready; later calls do nothing.
    public func markReady() {
        signal.yield()
        signal.finish()
    }

    /// Waits until `markReady()`; false if the waiting task was cancelled first. One waiter.
    func wait() async -> Bool {
        for await _ in signals { return true }
        return !Task.isCancelled
    }
}

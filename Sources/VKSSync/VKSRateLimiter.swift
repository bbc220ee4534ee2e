import Foundation
import Synchronization

/// Spaces this process's requests to the VKS evenly: at most `perMinute`, each at least 60/`perMinute`
/// seconds after the one before, however many callers ask at once. (The worker's concurrency bounds
/// how many are in flight; the server's own 429s and `Retry-After` are honoured by `VKSClient`.)
public final class VKSRateLimiter: Sendable {
    /// The time between two turns.
    public let spacing: Duration
    private let next = Mutex<ContinuousClock.Instant?>(nil)

    public init(perMinute: Int) {
        spacing = .seconds(60) / max(1, perMinute)
    }

    /// Waits for this caller's turn (cancellation ends the wait with CancellationError).
    public func acquire() async throws {
        let slot = reserve()
        if slot > ContinuousClock.now { try await Task.sleep(until: slot, clock: .continuous) }
    }

    /// Takes the next turn: now, or `spacing` after the last one given.
    public func reserve() -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        return next.withLock { next in
            let slot = max(now, next ?? now)
            next = slot + spacing
            return slot
        }
    }
}

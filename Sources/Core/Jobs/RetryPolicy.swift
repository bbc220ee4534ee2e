/// When a failed job runs again: exponential back-off with jitter, capped.
///
/// Attempt n waits `base × 2^(n−1)`, at most `maximum`, then a random 50–100 % of that, so many jobs that
/// failed together (say, a key server down) do not all come back in the same second.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration = .seconds(5), maximum: Duration = .seconds(3600)) {
        self.base = base
        self.maximum = maximum
    }

    /// The delay before the attempt after `attempt` (1-based), jitter included.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0.5...1.0)) -> Duration {
        let exponent = max(0, min(attempt - 1, 40))
        let raw = base * Double(1 << min(exponent, 30))
        let capped = min(raw, maximum)
        return capped * random
    }
}

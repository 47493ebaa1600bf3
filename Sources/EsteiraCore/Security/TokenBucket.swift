/// A client's requests per second: a bucket of `burst` tokens refilled at `rate` a second; each
/// request takes one, and a request that finds none waits until one is due. Pure: the caller
/// gives the time (seconds on a clock that only moves forward).
public struct TokenBucket: Sendable, Equatable {
    public private(set) var tokens: Double
    public private(set) var updated: Double

    public init(burst: Double, at now: Double) {
        tokens = burst
        updated = now
    }

    /// Takes a token at `now`: nil when there was one, else the seconds until one is due.
    public mutating func take(at now: Double, rate: Double, burst: Double) -> Double? {
        tokens = min(burst, tokens + max(0, now - updated) * rate)
        updated = max(updated, now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return (1 - tokens) / rate
    }
}

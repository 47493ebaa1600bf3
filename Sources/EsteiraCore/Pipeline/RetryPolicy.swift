/// Exponential backoff with full jitter: attempt n waits a random time in [0, min(cap, base·2^(n-1))].
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var baseSeconds: Double
    public var capSeconds: Double

    public init(maxAttempts: Int = 8, baseSeconds: Double = 1, capSeconds: Double = 300) {
        self.maxAttempts = maxAttempts
        self.baseSeconds = baseSeconds
        self.capSeconds = capSeconds
    }

    /// The ceiling of the wait after failed attempt `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Double {
        min(capSeconds, baseSeconds * Double(1 << min(max(attempt - 1, 0), 30)))
    }

    /// The wait after failed attempt `attempt`, `unit` being a random number in [0, 1).
    public func delay(afterAttempt attempt: Int, unit: Double) -> Double {
        ceiling(afterAttempt: attempt) * unit
    }
}

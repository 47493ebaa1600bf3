/// Seconds since this value was made, on a clock that only moves forward: the time the pure
/// counters of `EsteiraCore/Security` (`FailedAttempts`, `TokenBucket`) are given.
struct MonotonicSeconds: Sendable {
    private let start = ContinuousClock.now

    var now: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Wrong keys from one address, and what to do with its next attempt: answer at once, answer
/// after a pause that doubles with each failure, or refuse until the oldest counted failure is
/// old enough. A correct key does not clear the count: one valid key must not buy an address
/// more guesses at others.
///
/// Pure: the caller gives the time (seconds on any clock that only moves forward).
public struct FailedAttempts: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        /// Failures answered without a pause.
        public var free: Int
        /// Failures within `window` after which the address is refused.
        public var limit: Int
        /// How long a failure counts, in seconds.
        public var window: Double
        /// The first pause, doubled at each failure past `free`, up to `maxPause`.
        public var firstPause: Double
        public var maxPause: Double

        public init(free: Int = 5, limit: Int = 20, window: Double = 900, firstPause: Double = 0.25, maxPause: Double = 4) {
            self.free = free
            self.limit = limit
            self.window = window
            self.firstPause = firstPause
            self.maxPause = maxPause
        }
    }

    public enum Verdict: Sendable, Equatable {
        case answer
        /// Answer after this many seconds.
        case pause(Double)
        /// Refuse; the address may try again in this many whole seconds.
        case refuse(retryAfter: Int)
    }

    /// Times of the failures still within the window, oldest first; at most `limit` of them.
    public private(set) var failures: [Double] = []

    public init() {}

    mutating func forget(before now: Double, _ policy: Policy) {
        failures.removeAll { $0 <= now - policy.window }
    }

    /// What to do with an attempt arriving at `now`, before its key is checked.
    public mutating func verdict(at now: Double, _ policy: Policy) -> Verdict {
        forget(before: now, policy)
        guard failures.count >= policy.limit, let oldest = failures.first else { return .answer }
        return .refuse(retryAfter: max(1, Int((oldest + policy.window - now).rounded(.up))))
    }

    /// Counts a failure at `now`; returns the pause its answer waits.
    public mutating func fail(at now: Double, _ policy: Policy) -> Double {
        forget(before: now, policy)
        failures.append(now)
        if failures.count > policy.limit { failures.removeFirst(failures.count - policy.limit) }
        let past = failures.count - policy.free
        guard past > 0 else { return 0 }
        return min(policy.maxPause, policy.firstPause * Double(1 << min(past - 1, 20)))
    }

    /// Whether this address has just reached the limit (for the audit, once per lockout).
    public func atLimit(_ policy: Policy) -> Bool { failures.count == policy.limit }

    /// Whether nothing is left to remember at `now`.
    public func isEmpty(at now: Double, _ policy: Policy) -> Bool {
        failures.allSatisfy { $0 <= now - policy.window }
    }
}

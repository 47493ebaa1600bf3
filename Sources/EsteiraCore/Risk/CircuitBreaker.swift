/// A circuit breaker for a remote service, as a state machine over a clock the caller supplies
/// (seconds, monotonic): no I/O, no time of its own, so it is tested step by step.
///
/// Closed: calls pass. It opens on `failureThreshold` failures in a row (a dead service), or when
/// over the last `windowSeconds` at least `minimumCalls` calls were made and `failureRate` of them
/// failed (a service that fails every other call never fails twice in a row, and without this
/// rule every analysis paid for its retries, on and on). Open: calls are refused until
/// `openSeconds` have passed. Half-open: one probe at a time passes; its success closes the
/// breaker, its failure opens it again for another `openSeconds`.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case closed, open, halfOpen = "half_open"
    }

    public let failureThreshold: Int
    public let openSeconds: Double
    public let failureRate: Double
    public let minimumCalls: Int
    public let windowSeconds: Int
    public private(set) var state: State = .closed
    private var consecutiveFailures = 0
    private var openedAt: Double = 0
    private var probeInFlight = false
    /// Calls and failures per whole second of the window, oldest first.
    private var buckets: [(second: Int, calls: Int, failures: Int)] = []

    public init(failureThreshold: Int = 5, openSeconds: Double = 10, failureRate: Double = 0.5, minimumCalls: Int = 20,
                windowSeconds: Int = 10) {
        self.failureThreshold = max(1, failureThreshold)
        self.openSeconds = openSeconds
        self.failureRate = failureRate
        self.minimumCalls = max(1, minimumCalls)
        self.windowSeconds = max(1, windowSeconds)
    }

    public static func == (a: CircuitBreaker, b: CircuitBreaker) -> Bool {
        a.state == b.state && a.consecutiveFailures == b.consecutiveFailures && a.openedAt == b.openedAt
            && a.probeInFlight == b.probeInFlight && a.buckets.elementsEqual(b.buckets) { $0 == $1 }
    }

    /// Whether a call may go out now. In half-open, only the first caller gets the probe.
    public mutating func allow(now: Double) -> Bool {
        switch state {
        case .closed:
            return true
        case .open:
            guard now - openedAt >= openSeconds else { return false }
            state = .halfOpen
            probeInFlight = true
            return true
        case .halfOpen:
            if probeInFlight { return false }
            probeInFlight = true
            return true
        }
    }

    public mutating func recordSuccess(now: Double = 0) {
        count(now, failed: false)
        state = .closed
        consecutiveFailures = 0
        probeInFlight = false
    }

    public mutating func recordFailure(now: Double) {
        count(now, failed: true)
        switch state {
        case .closed:
            consecutiveFailures += 1
            let (calls, failures) = buckets.reduce((0, 0)) { ($0.0 + $1.calls, $0.1 + $1.failures) }
            if consecutiveFailures >= failureThreshold || (calls >= minimumCalls && Double(failures) >= failureRate * Double(calls)) {
                open(now)
            }
        case .halfOpen, .open:
            open(now)
        }
    }

    /// The rate over the window, for a caller that shows it; nil with no call in the window.
    public func failureRatio(now: Double) -> Double? {
        let since = Int(now.rounded(.down)) - windowSeconds + 1
        let (calls, failures) = buckets.filter { $0.second >= since }.reduce((0, 0)) { ($0.0 + $1.calls, $0.1 + $1.failures) }
        return calls == 0 ? nil : Double(failures) / Double(calls)
    }

    private mutating func count(_ now: Double, failed: Bool) {
        let second = Int(now.rounded(.down))
        buckets.removeAll { $0.second <= second - windowSeconds }
        if let last = buckets.indices.last, buckets[last].second == second {
            buckets[last].calls += 1
            if failed { buckets[last].failures += 1 }
        } else {
            buckets.append((second, 1, failed ? 1 : 0))
        }
    }

    private mutating func open(_ now: Double) {
        state = .open
        openedAt = now
        probeInFlight = false
        consecutiveFailures = 0
        // A fresh window after a probe closes it: the failures that opened it are not counted twice.
        buckets.removeAll()
    }
}

/// How many retries a caller may make: a share of its first attempts, plus a few a second, so
/// that retries help when calls fail now and then, and cannot multiply the load on a service
/// that fails often (a retry storm). A token bucket over a clock the caller supplies: each first
/// attempt adds `ratio` of a token, time adds `perSecond` a second, a retry takes one.
public struct RetryBudget: Sendable, Equatable {
    public let ratio: Double
    public let perSecond: Double
    public let capacity: Double
    private var tokens: Double
    private var updatedAt: Double?

    public init(ratio: Double = 0.1, perSecond: Double = 10, capacity: Double = 100) {
        self.ratio = ratio
        self.perSecond = perSecond
        self.capacity = capacity
        tokens = capacity
    }

    public mutating func recordAttempt(now: Double) {
        refill(now)
        tokens = min(capacity, tokens + ratio)
    }

    /// Whether a retry may be made now; if so, it is counted.
    public mutating func allowRetry(now: Double) -> Bool {
        refill(now)
        // Tenths add up to 0.999…: a token is whole within a rounding error.
        guard tokens >= 1 - 1e-9 else { return false }
        tokens = max(0, tokens - 1)
        return true
    }

    private mutating func refill(_ now: Double) {
        if let t = updatedAt { tokens = min(capacity, tokens + max(0, now - t) * perSecond) }
        updatedAt = now
    }
}

/// Answers kept for a while, by key, over a clock the caller supplies; the oldest go first when
/// it is full.
public struct TTLCache<Value: Sendable>: Sendable {
    public let ttlSeconds: Double
    public let capacity: Int
    private var entries: [String: (value: Value, expires: Double)] = [:]
    private var order: [String] = []
    private var head = 0

    public init(ttlSeconds: Double, capacity: Int = 100_000) {
        self.ttlSeconds = ttlSeconds
        self.capacity = max(1, capacity)
    }

    public func get(_ key: String, now: Double) -> Value? {
        guard let e = entries[key], e.expires > now else { return nil }
        return e.value
    }

    public mutating func put(_ key: String, _ value: Value, now: Double) {
        if entries[key] == nil { order.append(key) }
        entries[key] = (value, now + ttlSeconds)
        while entries.count > capacity, head < order.count {
            entries[order[head]] = nil
            head += 1
        }
        // Keep the insertion log from growing without bound.
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    public var count: Int { entries.count }
}

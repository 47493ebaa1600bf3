/// A circuit breaker for a remote service, as a state machine over a clock the caller supplies
/// (seconds, monotonic): no I/O, no time of its own, so it is tested step by step.
///
/// Closed: calls pass; `failureThreshold` failures in a row open it. Open: calls are refused
/// until `openSeconds` have passed. Half-open: one probe at a time passes; its success closes
/// the breaker, its failure opens it again for another `openSeconds`.
public struct CircuitBreaker: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        case closed, open, halfOpen = "half_open"
    }

    public let failureThreshold: Int
    public let openSeconds: Double
    public private(set) var state: State = .closed
    private var consecutiveFailures = 0
    private var openedAt: Double = 0
    private var probeInFlight = false

    public init(failureThreshold: Int = 5, openSeconds: Double = 10) {
        self.failureThreshold = max(1, failureThreshold)
        self.openSeconds = openSeconds
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

    public mutating func recordSuccess() {
        state = .closed
        consecutiveFailures = 0
        probeInFlight = false
    }

    public mutating func recordFailure(now: Double) {
        switch state {
        case .closed:
            consecutiveFailures += 1
            if consecutiveFailures >= failureThreshold { open(now) }
        case .halfOpen, .open:
            open(now)
        }
    }

    private mutating func open(_ now: Double) {
        state = .open
        openedAt = now
        probeInFlight = false
        consecutiveFailures = 0
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

import Synchronization

/// One timer for many deadlines: alarms wait in a timing wheel (one slot per `tick`), and a single
/// task wakes every `tick` while any is pending and fires the slots that are due. A request that
/// races its deadline this way costs a lock and an append, where a `Task.sleep` of its own costs a
/// task, a timer registered with the dispatch manager thread and the wake-ups between them; at
/// thousands of requests a second those wake-ups, not the requests' work, filled the cores.
///
/// An alarm fires at its instant or up to one `tick` later (more on a saturated machine), never
/// earlier, and alarms in different slots fire in their slots' order. Alarms are not withdrawn: one whose race has already ended fires into nothing, so
/// callers make firing twice harmless.
public final class AlarmClock: Sendable {
    /// The process's clock for request deadlines.
    public static let shared = AlarmClock(tick: .milliseconds(5))

    typealias Fire = @Sendable () -> Void

    struct State {
        /// `wheel[k % count]` holds the alarms of slot k, for slots up to `count - 1` past `done`.
        var wheel: [[Fire]]
        /// Alarms further ahead than the wheel reaches, with their slots; moved in as it turns.
        var far: [(slot: Int64, fire: Fire)] = []
        /// The last slot fired.
        var done: Int64 = 0
        /// Alarms on the wheel or beyond it; the ticking stops when none is left.
        var pending = 0
        /// Alarms taken off the wheel and not yet run (they run outside the lock).
        var firing = 0
        var running = false
    }

    let tick: Duration
    let origin: ContinuousClock.Instant
    let state: Mutex<State>
    /// False for a clock that a test turns by hand (`turn(to:)`).
    let ticking: Bool

    public init(tick: Duration, slots: Int = 1024, origin: ContinuousClock.Instant = .now, ticking: Bool = true) {
        self.tick = tick
        self.origin = origin
        self.ticking = ticking
        state = Mutex(State(wheel: Array(repeating: [], count: max(2, slots))))
    }

    /// The first slot whose start is at or after `instant`: firing it cannot be early.
    func slot(of instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - origin
        guard elapsed > .zero else { return 0 }
        let ticks = elapsed / tick
        let whole = Int64(ticks)
        return Double(whole) < ticks ? whole + 1 : whole
    }

    /// The last slot whose start has come by `now`.
    func passed(_ now: ContinuousClock.Instant) -> Int64 {
        let elapsed = now - origin
        return elapsed > .zero ? Int64(elapsed / tick) : 0
    }

    /// Calls `fire` once `instant` has passed (on the clock's own task; `fire` must be quick).
    public func schedule(at instant: ContinuousClock.Instant, _ fire: @escaping @Sendable () -> Void) {
        let k = slot(of: instant), now = passed(ContinuousClock.now)
        let start = state.withLock { s -> Bool in
            // An idle wheel has not turned: it starts again from now, not from where it stopped.
            if !s.running { s.done = max(s.done, now) }
            let target = max(k, s.done + 1)
            if target - s.done < Int64(s.wheel.count) {
                s.wheel[Int(target % Int64(s.wheel.count))].append(fire)
            } else {
                s.far.append((target, fire))
            }
            s.pending += 1
            guard !s.running else { return false }
            s.running = true
            return true
        }
        // Detached: the ticking task must not inherit the first caller's task locals or priority,
        // and outlives the request that started it.
        if start && ticking { Task.detached { await self.run() } }
    }

    /// Alarms not yet fired: waiting, or running now.
    public var pending: Int { state.withLock { $0.pending + $0.firing } }

    func run() async {
        let clock = ContinuousClock()
        while true {
            let now = clock.now
            guard turn(to: now) else { return }
            try? await Task.sleep(until: now + tick, tolerance: .zero, clock: clock)
        }
    }

    /// Fires every alarm whose slot has come by `now`; false when none is left.
    @discardableResult
    public func turn(to now: ContinuousClock.Instant) -> Bool {
        let reached = passed(now)
        var due: [Fire] = []
        let more = state.withLock { s -> Bool in
            let count = Int64(s.wheel.count)
            while s.done < reached {
                s.done += 1
                // Alarms from beyond the wheel's reach come in as it turns, before their slot
                // fires: a late turn that covers many slots still fires them in slot order.
                if !s.far.isEmpty {
                    var kept: [(slot: Int64, fire: Fire)] = []
                    for alarm in s.far {
                        if alarm.slot - s.done < count { s.wheel[Int(alarm.slot % count)].append(alarm.fire) } else { kept.append(alarm) }
                    }
                    s.far = kept
                }
                let i = Int(s.done % count)
                due.append(contentsOf: s.wheel[i])
                s.wheel[i].removeAll(keepingCapacity: true)
            }
            s.pending -= due.count
            s.firing += due.count
            if s.pending == 0 { s.running = false }
            return s.running
        }
        for fire in due {
            fire()
            state.withLock { $0.firing -= 1 }
        }
        return more
    }
}

/// Runs `operation` in a task of its own and answers its result, or nil once `deadline` has passed
/// without one (the shared `AlarmClock` keeps the time: one task per call, no timer of its own).
/// The operation then goes on in the background, cancelled unless `cancelLate` is false (a write
/// that must be kept even when its answer is no longer awaited). Cancelling the caller cancels the
/// operation.
public func answer<T: Sendable>(
    by deadline: ContinuousClock.Instant, cancelLate: Bool = true, clock: AlarmClock = .shared,
    _ operation: @escaping @Sendable () async throws -> T
) async -> Result<T, any Error>? {
    let slot = OneAnswer<Result<T, any Error>?>()
    let work = Task {
        do { slot.resolve(.success(try await operation())) } catch { slot.resolve(.failure(error)) }
    }
    clock.schedule(at: deadline) { slot.resolve(nil) }
    let raced = await withTaskCancellationHandler {
        await slot.value()
    } onCancel: {
        work.cancel()
    }
    if raced == nil && cancelLate { work.cancel() }
    return raced
}

/// The first value given, to one waiter; values after it are dropped. The value may come before
/// the waiter asks for it.
final class OneAnswer<Value: Sendable>: Sendable {
    enum State {
        case empty
        case given(Value)
        case waiting(CheckedContinuation<Value, Never>)
        case taken
    }

    private let state = Mutex(State.empty)

    func resolve(_ value: Value) {
        let waiter = state.withLock { s -> CheckedContinuation<Value, Never>? in
            switch s {
            case .empty:
                s = .given(value)
                return nil
            case .waiting(let continuation):
                s = .taken
                return continuation
            case .given, .taken:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    func value() async -> Value {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Value? in
                if case .given(let value) = s {
                    s = .taken
                    return value
                }
                s = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

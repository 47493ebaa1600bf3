import EsteiraCore
import Synchronization
import Testing

@Suite("AlarmClock and answer(by:): many deadlines on one timer")
struct AlarmClockTests {
    /// With 4 slots of 5 ms the wheel reaches 20 ms ahead: the 30 and 40 ms alarms wait outside it
    /// and are moved in as it turns.
    @Test("alarms fire in the order of their instants, none before its instant, and the clock stops ticking when none is left",
          arguments: [1024, 4])
    func firesInOrder(slots: Int) async throws {
        let clock = AlarmClock(tick: .milliseconds(5), slots: slots)
        let fired = Mutex<[(Int, ContinuousClock.Instant)]>([])
        let start = ContinuousClock.now
        // Scheduled out of order: 40, 10, 30, 20 ms from now.
        let offsets = [40, 10, 30, 20]
        for (i, ms) in offsets.enumerated() {
            let instant = start + .milliseconds(ms)
            clock.schedule(at: instant) { fired.withLock { $0.append((i, ContinuousClock.now)) } }
        }
        while clock.pending > 0 { try await Task.sleep(for: .milliseconds(5)) }
        let seen = fired.withLock { $0 }
        // By instant: index 1 (10 ms), 3 (20 ms), 2 (30 ms), 0 (40 ms).
        #expect(seen.map(\.0) == [1, 3, 2, 0])
        for (i, at) in seen { #expect(at >= start + .milliseconds(offsets[i])) }
        // A later alarm restarts the ticking task.
        let again = Mutex(false)
        clock.schedule(at: ContinuousClock.now) { again.withLock { $0 = true } }
        while !again.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
    }

    /// A turn that comes late (a busy machine) covers many slots at once. Before, the alarms from
    /// beyond the wheel's reach were fired after the wheel's, in the order they were scheduled:
    /// here 10, 40, 30, 20 ms.
    @Test("a late turn fires the alarms of many slots in their order, those from beyond the wheel's reach included")
    func lateTurn() {
        let start = ContinuousClock.now
        let clock = AlarmClock(tick: .milliseconds(5), slots: 4, origin: start, ticking: false)
        let fired = Mutex<[Int]>([])
        for (i, ms) in [40, 10, 30, 20].enumerated() {
            clock.schedule(at: start + .milliseconds(ms)) { fired.withLock { $0.append(i) } }
        }
        // Nothing is due at 9 ms; at 100 ms, all of them, by instant: 10 (1), 20 (3), 30 (2), 40 (0).
        #expect(clock.turn(to: start + .milliseconds(9)))
        #expect(fired.withLock { $0 }.isEmpty)
        #expect(!clock.turn(to: start + .milliseconds(100)))
        #expect(fired.withLock { $0 } == [1, 3, 2, 0])
        #expect(clock.pending == 0)
    }

    /// CI (5f30752) saw `pending` at 0 while no alarm had yet run: the turn took them off the
    /// wheel, counted them gone, and fired them after. An alarm firing is not yet fired.
    @Test("an alarm counts as pending until it has run: seen from inside its own firing, it is still pending")
    func pendingUntilRun() {
        let start = ContinuousClock.now
        let clock = AlarmClock(tick: .milliseconds(5), slots: 4, origin: start, ticking: false)
        let seenInside = Mutex<[Int]>([])
        clock.schedule(at: start + .milliseconds(10)) { seenInside.withLock { $0.append(clock.pending) } }
        clock.schedule(at: start + .milliseconds(20)) { seenInside.withLock { $0.append(clock.pending) } }
        _ = clock.turn(to: start + .milliseconds(100))
        // The first to run sees both still pending (itself and the other, taken in the same
        // turn); the second sees itself.
        #expect(seenInside.withLock { $0 } == [2, 1])
        #expect(clock.pending == 0)
    }

    @Test("an operation that ends in time answers its value; one that throws answers its error")
    func inTime() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        let value = await answer(by: deadline) { 42 }
        #expect(try value?.get() == 42)
        struct Boom: Error {}
        let failed = await answer(by: deadline) { () async throws -> Int in throw Boom() }
        #expect(throws: Boom.self) { try failed?.get() }
    }

    @Test("past its deadline the caller is answered nil at once, and the late operation is cancelled")
    func lateIsCancelled() async throws {
        let cancelled = Mutex(false)
        let started = ContinuousClock.now
        let result = await answer(by: started + .milliseconds(50)) { () async throws -> Int in
            do {
                try await Task.sleep(for: .seconds(60))
            } catch {
                cancelled.withLock { $0 = true }
                throw error
            }
            return 1
        }
        #expect(result == nil)
        // The operation asked for 60 s; the answer came with the deadline (50 ms), well before.
        #expect(ContinuousClock.now - started < .seconds(30))
        while !cancelled.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test("with cancelLate false, the late operation runs to its end after the caller moved on")
    func lateRunsOn() async throws {
        let finished = Mutex(false)
        let gate = Mutex(true)
        let result = await answer(by: ContinuousClock.now + .milliseconds(20), cancelLate: false) { () async throws -> Int in
            while gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
            finished.withLock { $0 = true }
            return 7
        }
        #expect(result == nil)
        #expect(!finished.withLock { $0 })
        gate.withLock { $0 = false }
        while !finished.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test("cancelling the caller cancels the operation")
    func callerCancelled() async throws {
        let cancelled = Mutex(false)
        let caller = Task {
            await answer(by: ContinuousClock.now + .seconds(60)) { () async throws -> Int in
                do { try await Task.sleep(for: .seconds(60)) } catch {
                    cancelled.withLock { $0 = true }
                    throw error
                }
                return 1
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        caller.cancel()
        let result = await caller.value
        #expect(throws: CancellationError.self) { try result?.get() }
        #expect(cancelled.withLock { $0 })
    }
}

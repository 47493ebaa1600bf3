import EsteiraCore
@testable import EsteiraNotify
import Synchronization
import Testing

@Suite("Outbox rounds: one that never ends does not stop the channel")
struct DeliveryPolicyTests {
    /// Round 1 waits for ever (a database call that never answers, deaf to cancellation); the
    /// rounds after it answer at once. With a limit of 0.3 s, round 2 must begin about then; before,
    /// the loop waited on round 1 for ever.
    @Test("a round past its limit is left behind, reported, and the next round begins")
    func overrunRound() async throws {
        var policy = DeliveryPolicy()
        policy.pollSeconds = 0.05
        let rounds = Mutex(0)
        let overruns = Mutex<[Double]>([])
        let stuck = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let loop = Task {
            await policy.loop(limit: 0.3, onOverrun: { overran in overruns.withLock { $0.append(overran.seconds) } }) {
                let n = rounds.withLock { $0 += 1; return $0 }
                if n == 1 { await withCheckedContinuation { c in stuck.withLock { $0 = c } } }
                return 0
            }
        }
        // Wait (up to 20 s, only so that a failure cannot hang the run) for a third round.
        let clock = ContinuousClock(), deadline = clock.now + .seconds(20)
        while rounds.withLock({ $0 }) < 3 && clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        loop.cancel()
        #expect(rounds.withLock { $0 } >= 3)
        #expect(overruns.withLock { $0 } == [0.3])
        stuck.withLock { $0?.resume(); $0 = nil }
    }
}

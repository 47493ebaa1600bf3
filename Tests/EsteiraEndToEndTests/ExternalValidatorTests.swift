import EsteiraCore
@testable import EsteiraRisk
import EsteiraTestSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

extension StandIn {
    func validator(_ configure: (inout ExternalValidator.Settings) -> Void = { _ in }) -> ExternalValidator {
        var s = ExternalValidator.Settings(url: base + "/validate")
        configure(&s)
        return ExternalValidator(settings: s)
    }
}

@Suite("External validation: deadline, retries, breaker, cache, against a real stand-in server", .offSharedPool, .serialized)
struct ExternalValidatorTests {
    let clock = ContinuousClock()

    @Test("healthy: clear and restricted answers; a second ask is served from the cache")
    func healthyAndCache() async throws {
        let s = try StandIn()
        defer { s.stop() }
        try await s.control(#"{"delay_ms": 20, "restricted": {"11144477735": "óbito"}}"#)
        // What is tested is the answers and the cache, not the timeouts (the tests below): the
        // default 400 ms a call once ran out on a machine busy with the whole suite.
        let v = s.validator { $0.callTimeout = .seconds(10) }
        #expect(await v.validate(document: "52998224725", deadline: clock.now + .seconds(20)) == .clear)
        #expect(await v.validate(document: "11144477735", deadline: clock.now + .seconds(20)) == .restricted(reason: "óbito"))
        #expect(await v.validate(document: "52998224725", deadline: clock.now + .seconds(20)) == .clear)
        #expect(try await s.stats().calls == 2) // the third was the cache's
    }

    @Test("a hanging service: the deadline holds, and the answer is unavailable")
    func deadlineHolds() async throws {
        let s = try StandIn()
        defer { s.stop() }
        try await s.control(#"{"hang": true}"#)
        let v = s.validator { $0.callTimeout = .milliseconds(300) }
        let started = clock.now
        let answer = await v.validate(document: "52998224725", deadline: started + .milliseconds(800))
        let took = clock.now - started
        guard case .unavailable = answer else { Issue.record("expected unavailable, got \(answer)"); return }
        // Structural bound: the answer came back around the deadline (800 ms), within the
        // analysis's whole 2-second budget, not after the hour the stand-in waits.
        #expect(took < .seconds(2), "took \(took)")
        // It did call (how many tries fit in 800 ms depends on the machine's load).
        #expect(try await s.stats().calls >= 1)
    }

    @Test("failures are retried within the budget: half the calls failing still gets answers")
    func retries() async throws {
        let s = try StandIn()
        defer { s.stop() }
        try await s.control(#"{"delay_ms": 5, "fail_ratio": 0.5}"#)
        let v = s.validator { $0.failureThreshold = 100 }
        for i in 0..<10 {
            // Every second call fails: the retry of a failed one succeeds.
            #expect(await v.validate(document: "doc\(i)", deadline: clock.now + .seconds(2)) == .clear)
        }
        let stats = try await s.stats()
        #expect(stats.failures > 0 && stats.calls == 10 + stats.failures)
    }

    @Test("the breaker opens after repeated failures, refuses without calling, then half-opens and closes on recovery")
    func breaker() async throws {
        let s = try StandIn()
        defer { s.stop() }
        try await s.control(#"{"delay_ms": 1, "fail_ratio": 1}"#)
        let v = s.validator {
            $0.failureThreshold = 3
            $0.openSeconds = 1
            $0.attempts = 1
        }
        for i in 0..<3 {
            guard case .unavailable = await v.validate(document: "a\(i)", deadline: clock.now + .seconds(2)) else {
                Issue.record("expected unavailable"); return
            }
        }
        #expect(v.breakerState == .open)
        let callsWhenOpened = try await s.stats().calls
        #expect(await v.validate(document: "b", deadline: clock.now + .seconds(2)) == .unavailable(reason: "circuito aberto"))
        #expect(try await s.stats().calls == callsWhenOpened) // refused without a call
        try await s.control(#"{"fail_ratio": 0}"#)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(await v.validate(document: "c", deadline: clock.now + .seconds(2)) == .clear) // the probe
        #expect(v.breakerState == .closed)
    }
}

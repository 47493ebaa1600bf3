import EsteiraCore
import Testing

@Suite("Risk rules")
struct RiskEngineTests {
    let today = Day(year: 2026, month: 11, day: 22)!
    // 529.982.247-25 is a valid CPF (check digits worked by hand in TaxIDTests); 529.982.247-26 is not.
    func input(_ document: String = "529.982.247-25", cents: Int64 = 10_000, due: Day? = nil) -> RiskInput {
        RiskInput(document: document, amountCents: cents, dueDate: due, today: today)
    }

    @Test("no rule fires: approve with score 0")
    func clean() {
        let d = RiskEngine.decide(input(), facts: RiskFacts(external: .clear), policy: RiskPolicy())
        #expect(d.outcome == .approve && d.score == 0 && d.reasons.isEmpty && !d.usedFallback)
    }

    @Test("the most severe outcome wins; points add up to at most 100")
    func severityAndScore() {
        // Blacklisted (reject, 100) and above the limit (review, 30): reject, 100 (capped).
        let policy = RiskPolicy(maxAmountCents: 5_000)
        let d = RiskEngine.decide(input(), facts: RiskFacts(blacklistReason: "fraude confirmada"), policy: policy)
        #expect(d.outcome == .reject)
        #expect(d.score == 100)
        #expect(d.reasons.map(\.rule) == [.blacklisted, .amountAboveLimit])
        #expect(d.reasons[1].message == "O valor R$ 100,00 passa do limite do cliente (R$ 50,00).")
        // Above the limit (30) and velocity (40): review, 70.
        let v = RiskEngine.decide(input(), facts: RiskFacts(recentCount: 21), policy: RiskPolicy(maxAmountCents: 5_000, velocityLimit: 20))
        #expect(v.outcome == .review && v.score == 70)
        #expect(RiskEngine.decide(input(), facts: RiskFacts(recentCount: 20), policy: RiskPolicy(velocityLimit: 20)).outcome == .approve)
    }

    @Test("amounts in messages as Brazilians write them")
    func brazilianAmounts() {
        #expect(Money.brazilian(cents: 123_456_789) == "R$ 1.234.567,89")
        #expect(Money.brazilian(cents: 100_000) == "R$ 1.000,00")
        #expect(Money.brazilian(cents: 99_999) == "R$ 999,99")
        #expect(Money.brazilian(cents: -5) == "-R$ 0,05")
    }

    @Test("an invalid document is rejected with K001")
    func invalidDocument() {
        let d = RiskEngine.decide(input("529.982.247-26"), facts: RiskFacts(), policy: RiskPolicy())
        #expect(d.outcome == .reject && d.reasons.map(\.rule.rawValue) == ["K001"])
    }

    @Test("the external service: restricted per policy; unavailable follows the fallback and says so")
    func external() {
        let restricted = RiskEngine.decide(input(), facts: RiskFacts(external: .restricted(reason: "óbito")),
                                           policy: RiskPolicy(externalRestrictedOutcome: .reject))
        #expect(restricted.outcome == .reject && restricted.score == 60 && !restricted.usedFallback)
        for fallback in RiskOutcome.allCases {
            let d = RiskEngine.decide(input(), facts: RiskFacts(external: .unavailable(reason: "tempo esgotado")),
                                      policy: RiskPolicy(externalFallback: fallback))
            #expect(d.outcome == fallback)
            #expect(d.usedFallback)
            #expect(d.reasons.first?.rule == .externalUnavailable)
            #expect(d.reasons.first?.message.contains("contingência: \(fallback.rawValue)") == true)
        }
    }

    @Test("a due date more than five years before today is likely time-barred (K007)")
    func timeBarred() {
        // Today 2026-11-22: five years back is 2021-11-22. The day before is barred; that day is not.
        #expect(RiskEngine.decide(input(due: Day(year: 2021, month: 11, day: 21)), facts: RiskFacts(), policy: RiskPolicy())
            .reasons.map(\.rule) == [.timeBarred])
        #expect(RiskEngine.decide(input(due: Day(year: 2021, month: 11, day: 22)), facts: RiskFacts(), policy: RiskPolicy())
            .reasons.isEmpty)
        // From 2024-02-29, five years back has no 29 February: 2019-02-28 is the bound.
        let leap = RiskInput(document: "529.982.247-25", amountCents: 1, dueDate: Day(year: 2019, month: 2, day: 27),
                             today: Day(year: 2024, month: 2, day: 29)!)
        #expect(RiskEngine.decide(leap, facts: RiskFacts(), policy: RiskPolicy()).reasons.map(\.rule) == [.timeBarred])
    }
}

@Suite("Circuit breaker and answer cache")
struct CircuitBreakerTests {
    @Test("opens after N failures in a row, refuses while open, lets one probe through half-open")
    func breaker() {
        var b = CircuitBreaker(failureThreshold: 3, openSeconds: 10)
        func allow(_ now: Double) -> Bool { b.allow(now: now) }
        #expect(allow(0))
        b.recordFailure(now: 0)
        b.recordFailure(now: 1)
        b.recordSuccess() // a success in between resets the count
        b.recordFailure(now: 2)
        b.recordFailure(now: 3)
        #expect(b.state == .closed)
        b.recordFailure(now: 4) // third in a row
        #expect(b.state == .open)
        #expect(!allow(13.9))
        #expect(allow(14)) // 10 s after opening: the probe
        #expect(b.state == .halfOpen)
        #expect(!allow(14.1)) // only one probe at a time
        b.recordFailure(now: 15) // the probe failed: open again, from 15
        #expect(b.state == .open)
        #expect(!allow(24.9))
        #expect(allow(25))
        b.recordSuccess()
        #expect(b.state == .closed)
        #expect(allow(25.1))
    }

    @Test("a service failing every other call never fails twice in a row, and opens the breaker by its failure rate")
    func failureRate() {
        var b = CircuitBreaker(failureThreshold: 5, openSeconds: 10, failureRate: 0.5, minimumCalls: 20, windowSeconds: 10)
        // 19 calls alternating (10 failures, 9 successes): under the minimum of 20, stays closed.
        for i in 0..<19 {
            if i % 2 == 0 { b.recordFailure(now: Double(i) * 0.1) } else { b.recordSuccess(now: Double(i) * 0.1) }
        }
        #expect(b.state == .closed)
        // The 20th call, a success: 10 of 20 failed, but only failures open it.
        b.recordSuccess(now: 1.9)
        #expect(b.state == .closed)
        // The 21st, a failure: 11 of 21 ≥ 50%.
        b.recordFailure(now: 2.0)
        #expect(b.state == .open)
        // Failures older than the window do not count: 10 failures at 0 s, then 20 successes at 20 s.
        var c = CircuitBreaker(failureThreshold: 100, openSeconds: 10, failureRate: 0.5, minimumCalls: 20, windowSeconds: 10)
        for _ in 0..<10 { c.recordFailure(now: 0) }
        for _ in 0..<20 { c.recordSuccess(now: 20) }
        c.recordFailure(now: 20.5)
        #expect(c.state == .closed) // 1 of 21 in the window
        #expect(c.failureRatio(now: 20.5).map { abs($0 - 1.0 / 21.0) < 1e-9 } == true)
    }

    @Test("retries are a share of first attempts: a storm of failures cannot multiply the calls")
    func retryBudget() {
        // Two tokens to start, a tenth of a token per first attempt, none from time (by hand).
        var r = RetryBudget(ratio: 0.1, perSecond: 0, capacity: 2)
        let first = r.allowRetry(now: 0), second = r.allowRetry(now: 0), third = r.allowRetry(now: 0)
        #expect(first && second && !third)
        for _ in 0..<9 { r.recordAttempt(now: 1) }
        let early = r.allowRetry(now: 1) // 0.9 of a token
        r.recordAttempt(now: 1)
        let whole = r.allowRetry(now: 1) // the tenth first attempt made a whole token
        #expect(!early && whole)
        // Time refills at perSecond: 5 a second, so one token after 0.2 s.
        var t = RetryBudget(ratio: 0, perSecond: 5, capacity: 1)
        let a = t.allowRetry(now: 0), b = t.allowRetry(now: 0.1), c = t.allowRetry(now: 0.2)
        #expect(a && !b && c)
    }

    @Test("answers expire after their time; the oldest go first when full")
    func cache() {
        var c = TTLCache<String>(ttlSeconds: 60, capacity: 2)
        c.put("a", "A", now: 0)
        #expect(c.get("a", now: 59.9) == "A")
        #expect(c.get("a", now: 60) == nil)
        c.put("b", "B", now: 1)
        c.put("c", "C", now: 2) // over capacity: "a" (the oldest) goes
        #expect(c.count == 2 && c.get("a", now: 3) == nil && c.get("b", now: 3) == "B" && c.get("c", now: 3) == "C")
    }
}

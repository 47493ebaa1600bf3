import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Metrics

/// One risk analysis from start to stored decision, within a deadline: the facts are gathered
/// at the same time (blacklist, how often the document was seen, the external service), the
/// rules decide, and the decision is kept. A fact that cannot be had in time degrades the
/// answer (the external service's fallback); it does not fail it.
///
/// The same rules judge the debts of a batch in the register stage (`judge`).
public struct RiskService: Sendable {
    public let db: any SQLDatabase
    public let validator: ExternalValidator?
    /// The agency's policy; a client's own amount limits replace its defaults (`policy(for:)`).
    public let policy: RiskPolicy
    /// The whole analysis's budget; the external call gets what is left of it minus `reserve`,
    /// kept for deciding and storing.
    public let budget: Duration
    public let reserve: Duration
    public let blacklist: BlacklistCache
    public let log: DecisionLog
    /// How many documents of a batch are sent to the external service at once.
    public var batchConcurrency = 32

    public init(db: any SQLDatabase, validator: ExternalValidator?, policy: RiskPolicy,
                budget: Duration = .seconds(2), reserve: Duration = .milliseconds(250),
                blacklist: BlacklistCache? = nil) {
        self.db = db
        self.validator = validator
        self.policy = policy
        self.budget = budget
        self.reserve = reserve
        self.blacklist = blacklist ?? BlacklistCache(db: db)
        log = DecisionLog(db: db)
    }

    /// The policy for one client: the agency's, with the client's amount limits where it has them.
    public func policy(for client: ClientRecord) -> RiskPolicy {
        var p = policy
        if let max = client.maxAmountCents { p.maxAmountCents = max }
        if let min = client.minAmountCents { p.minAmountCents = min }
        return p
    }

    public struct Request: Sendable {
        public var document: String
        public var amountCents: Int64
        public var dueDate: Day?
        public var metadata: String?
        public var traceKey: String

        public init(document: String, amountCents: Int64, dueDate: Day?, metadata: String?, traceKey: String) {
            self.document = document
            self.amountCents = amountCents
            self.dueDate = dueDate
            self.metadata = metadata
            self.traceKey = traceKey
        }
    }

    /// `waited`: how long the request had already waited in this process before its handler ran
    /// (the server stamps its arrival): the budget counts from its arrival, so that queueing in
    /// front of the handler is inside it, not on top of it.
    ///
    /// Every fact is gathered by the budget less `reserve` at the latest: what is not in by then
    /// (the external service, a count stuck behind the database under overload) is unavailable,
    /// and the policy's fallback decides. The decision is kept, and answered, by the budget: a save
    /// that has not finished by then goes on in the background and the answer does not wait for it.
    public func analyze(_ request: Request, client: ClientRecord, now: Date = Date(), waited: Duration = .zero) async throws -> StoredRiskDecision {
        let clock = ContinuousClock()
        let arrived = clock.now - waited
        let deadline = arrived + budget - reserve
        let answerBy = arrived + budget - .milliseconds(20)
        let document = TaxID.normalize(request.document[...])
        let policy = policy(for: client)
        let since = now.addingTimeInterval(-Double(policy.velocityWindowSeconds))
        let listed = try await blacklist.reason(for: document)

        // The blacklist is in memory and the external answer often cached: only a call to the
        // external service runs beside the count, as a child task. The external answer's own
        // deadline comes a little before the gathering's, so that a count in by then is used.
        let gathered = await answer(by: deadline + .milliseconds(10)) { [validator, log] () async throws -> RiskFacts in
            let external: ExternalAnswer
            let seen: Int
            if let validator, validator.cached(document: document) == nil {
                async let called = validator.validate(document: document, deadline: deadline)
                seen = try await log.count(clientID: client.id, document: document, since: since)
                external = await called
            } else {
                seen = try await log.count(clientID: client.id, document: document, since: since)
                external = await validator?.validate(document: document, deadline: deadline) ?? .notConfigured
            }
            return RiskFacts(blacklistReason: listed, external: external, recentCount: seen + 1)
        }
        let facts: RiskFacts
        switch gathered {
        case .success(let gathered)?: facts = gathered
        case .failure(let error)?: throw error
        case nil:
            // Under overload even the count can miss the deadline: the external answer is then as
            // good as missing, and the fallback decides.
            facts = RiskFacts(blacklistReason: listed, external: .unavailable(reason: "prazo esgotado (servidor sobrecarregado)"))
        }

        let input = RiskInput(document: document, amountCents: request.amountCents, dueDate: request.dueDate,
                              today: Day(now, in: Day.saoPaulo))
        let decision = RiskEngine.decide(input, facts: facts, policy: policy)
        Counter(label: MetricName.riskAnalyses, dimensions: [("outcome", decision.outcome.rawValue)]).increment()
        Timer(label: MetricName.riskAnalysisDuration).recordNanoseconds(Int64((clock.now - arrived) / .nanoseconds(1)))
        let stored = StoredRiskDecision(
            clientID: client.id, traceKey: request.traceKey, document: document, amountCents: request.amountCents,
            dueDate: request.dueDate, metadata: request.metadata, decision: decision, external: facts.external,
            elapsedMs: Int((clock.now - arrived) / .milliseconds(1)), createdAt: now)
        // The save runs to its end whatever the answer does: only the wait for it is bounded.
        switch await answer(by: answerBy, cancelLate: false, { [log] in try await log.save(stored) }) {
        case .success(let kept)?: return kept
        case .failure(let error)?: throw error
        case nil: return stored
        }
    }

    /// Judges debts about to be registered (valid ones: their documents pass the checks already),
    /// in their order. The blacklist is the one in the database now; each distinct document is
    /// asked of the external service once, `batchConcurrency` at a time, each within its own
    /// budget. Velocity (K006) is not judged here: a debtor with many debts in one file is
    /// ordinary; it is a signal for transactions, which `analyze` judges.
    public func judge(_ debts: [DebtSummary], policy: RiskPolicy, today: Day) async throws -> [RiskDecision] {
        guard !debts.isEmpty else { return [] }
        let listed = try await blacklist.current(maxAge: .zero).entries
        var answers: [String: ExternalAnswer] = [:]
        if let validator {
            var seen = Set<String>()
            let documents = debts.map(\.document.value).filter { seen.insert($0).inserted }
            answers = await withTaskGroup(of: (String, ExternalAnswer).self) { group in
                var next = 0
                func start() {
                    let document = documents[next]
                    next += 1
                    let deadline = ContinuousClock.now + budget - reserve
                    group.addTask { (document, await validator.validate(document: document, deadline: deadline)) }
                }
                while next < min(batchConcurrency, documents.count) { start() }
                var out: [String: ExternalAnswer] = [:]
                out.reserveCapacity(documents.count)
                for await (document, answer) in group {
                    out[document] = answer
                    if next < documents.count { start() }
                }
                return out
            }
        }
        // By index, reading only the fields the rules need: a closure over each debt copied it and
        // retained its strings, a tenth of the register stage's own CPU time on a large batch.
        var decisions: [RiskDecision] = []
        decisions.reserveCapacity(debts.count)
        for i in debts.indices {
            let document = debts[i].document.value
            let facts = RiskFacts(blacklistReason: listed.isEmpty ? nil : listed[document],
                                  external: answers.isEmpty ? .notConfigured : answers[document] ?? .notConfigured)
            decisions.append(RiskEngine.decide(RiskInput(document: document, amountCents: debts[i].amountCents,
                                                         dueDate: debts[i].dueDate, today: today),
                                               facts: facts, policy: policy))
        }
        return decisions
    }
}

import EsteiraCore
import EsteiraStore
import Foundation

/// One risk analysis from start to stored decision, within a deadline: the facts are gathered
/// at the same time (blacklist, how often the document was seen, the external service), the
/// rules decide, and the decision is kept. A fact that cannot be had in time degrades the
/// answer (the external service's fallback); it does not fail it.
public struct RiskService: Sendable {
    public let db: any SQLDatabase
    public let validator: ExternalValidator?
    public let policy: RiskPolicy
    /// The whole analysis's budget; the external call gets what is left of it minus `reserve`,
    /// kept for deciding and storing.
    public let budget: Duration
    public let reserve: Duration

    public init(db: any SQLDatabase, validator: ExternalValidator?, policy: RiskPolicy,
                budget: Duration = .seconds(2), reserve: Duration = .milliseconds(250)) {
        self.db = db
        self.validator = validator
        self.policy = policy
        self.budget = budget
        self.reserve = reserve
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

    public func analyze(_ request: Request, clientID: String, now: Date = Date()) async throws -> StoredRiskDecision {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + budget - reserve
        let document = TaxID.normalize(request.document[...])
        let since = now.addingTimeInterval(-Double(policy.velocityWindowSeconds))

        async let external: ExternalAnswer = validator?.validate(document: document, deadline: deadline) ?? .notConfigured
        async let listed = BlacklistStore(db: db).get(document: document)
        async let seen = RiskDecisionStore(db: db).count(document: document, since: since)
        let facts = RiskFacts(blacklistReason: try await listed?.reason, external: await external, recentCount: try await seen + 1)

        let input = RiskInput(document: document, amountCents: request.amountCents, dueDate: request.dueDate,
                              today: Day(now, in: Day.saoPaulo))
        let decision = RiskEngine.decide(input, facts: facts, policy: policy)
        let elapsed = clock.now - started
        return try await RiskDecisionStore(db: db).save(StoredRiskDecision(
            clientID: clientID, traceKey: request.traceKey, document: document, amountCents: request.amountCents,
            dueDate: request.dueDate, metadata: request.metadata, decision: decision, external: facts.external,
            elapsedMs: Int(elapsed / .milliseconds(1)), createdAt: now))
    }
}

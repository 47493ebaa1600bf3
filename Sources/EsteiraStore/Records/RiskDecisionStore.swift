import EsteiraCore
import Foundation

/// A risk decision as kept for audit: what was asked, what the rules said, what the external
/// service answered (or why it did not), and how long it took.
public struct StoredRiskDecision: Sendable, Equatable {
    public var clientID: String
    public var traceKey: String
    public var document: String
    public var amountCents: Int64
    public var dueDate: Day?
    /// The caller's metadata, as JSON text.
    public var metadata: String?
    public var decision: RiskDecision
    public var external: ExternalAnswer
    public var elapsedMs: Int
    public var createdAt: Date

    public init(clientID: String, traceKey: String, document: String, amountCents: Int64, dueDate: Day?, metadata: String?,
                decision: RiskDecision, external: ExternalAnswer, elapsedMs: Int, createdAt: Date) {
        self.clientID = clientID
        self.traceKey = traceKey
        self.document = document
        self.amountCents = amountCents
        self.dueDate = dueDate
        self.metadata = metadata
        self.decision = decision
        self.external = external
        self.elapsedMs = elapsedMs
        self.createdAt = createdAt
    }
}

public struct RiskDecisionStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// How often the document was judged since `since`, for any client.
    public func count(document: String, since: Date) async throws -> Int {
        try await db.query("""
            SELECT COUNT(*) AS n FROM risk_decisions WHERE document = \(document) AND created_at >= \(since)
            """)[0].int("n")
    }

    /// Keeps the decision; when the client already has one under the trace key, keeps that one
    /// and returns it instead (a re-sent request gets its first answer).
    public func save(_ d: StoredRiskDecision) async throws -> StoredRiskDecision {
        let encoder = JSONEncoder()
        let reasons = String(decoding: try encoder.encode(d.decision.reasons), as: UTF8.self)
        let external = String(decoding: try encoder.encode(d.external), as: UTF8.self)
        let inserted = try await db.write { c in
            try await c.execute("""
                INSERT INTO risk_decisions (client_id, trace_key, document, amount_cents, due_date, metadata, outcome, score,
                                            reasons, external, used_fallback, elapsed_ms, created_at)
                VALUES (\(d.clientID), \(d.traceKey), \(d.document), \(d.amountCents), \(d.dueDate), \(d.metadata),
                        \(d.decision.outcome.rawValue), \(d.decision.score), \(reasons), \(external), \(d.decision.usedFallback ? 1 : 0),
                        \(d.elapsedMs), \(d.createdAt))
                ON CONFLICT (client_id, trace_key) DO NOTHING
                """)
        }
        if inserted == 1 { return d }
        return try await get(clientID: d.clientID, traceKey: d.traceKey) ?? d
    }

    public func get(clientID: String, traceKey: String) async throws -> StoredRiskDecision? {
        guard let r = try await db.query("""
            SELECT client_id, trace_key, document, amount_cents, due_date, metadata, outcome, score, reasons, external,
                   used_fallback, elapsed_ms, created_at
            FROM risk_decisions WHERE client_id = \(clientID) AND trace_key = \(traceKey)
            """).first else { return nil }
        let decoder = JSONDecoder()
        let reasons = try decoder.decode([RiskReason].self, from: Data(try r.string("reasons").utf8))
        let external = try decoder.decode(ExternalAnswer.self, from: Data(try r.string("external").utf8))
        let decision = RiskDecision(outcome: RiskOutcome(rawValue: try r.string("outcome")) ?? .review, score: try r.int("score"),
                                    reasons: reasons, usedFallback: try r.int("used_fallback") != 0)
        return StoredRiskDecision(clientID: try r.string("client_id"), traceKey: try r.string("trace_key"),
                                  document: try r.string("document"), amountCents: Int64(try r.int("amount_cents")),
                                  dueDate: try? r.day("due_date"), metadata: try r.optionalString("metadata"), decision: decision,
                                  external: external, elapsedMs: try r.int("elapsed_ms"), createdAt: try r.date("created_at"))
    }
}

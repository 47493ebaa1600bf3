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

    /// How often each document was judged for the client since `since`; a document never judged
    /// is absent. One query per 500 documents. Only the client's own analyses count: velocity
    /// (K006) and its message must tell a client nothing of another client's activity.
    public func counts(clientID: String, documents: [String], since: Date) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        let unique = Array(Set(documents))
        var start = 0
        while start < unique.count {
            let chunk = Array(unique[start..<min(start + 500, unique.count)])
            for r in try await db.query("""
                SELECT document, COUNT(*) AS n FROM risk_decisions
                WHERE document IN (\(list: chunk)) AND client_id = \(clientID) AND created_at >= \(since) GROUP BY document
                """) {
                out[try r.string("document")] = try r.int("n")
            }
            start += chunk.count
        }
        return out
    }

    /// Keeps the decisions, in one transaction; a decision whose client already has one under its
    /// trace key is not kept, and the one kept before is returned in its place (a re-sent request
    /// gets its first answer). Two with the same key in one call: the first is kept.
    public func save(_ decisions: [StoredRiskDecision]) async throws -> [StoredRiskDecision] {
        guard !decisions.isEmpty else { return [] }
        let encoder = JSONEncoder()
        let rows: [[SQLValue]] = try decisions.map { d in
            [.text(d.clientID), .text(d.traceKey), .text(d.document), .int(d.amountCents), d.dueDate.map(SQLValue.day) ?? .null,
             d.metadata.map(SQLValue.text) ?? .null, .text(d.decision.outcome.rawValue), .int(Int64(d.decision.score)),
             .text(String(decoding: try encoder.encode(d.decision.reasons), as: UTF8.self)),
             .text(String(decoding: try encoder.encode(d.external), as: UTF8.self)), .int(d.decision.usedFallback ? 1 : 0),
             .int(Int64(d.elapsedMs)), .timestamp(d.createdAt)]
        }
        let kept = try await db.write { c in
            try await c.insert(into: "risk_decisions",
                               columns: ["client_id", "trace_key", "document", "amount_cents", "due_date", "metadata", "outcome", "score",
                                         "reasons", "external", "used_fallback", "elapsed_ms", "created_at"],
                               rows: rows, ignoringConflictsOn: ["client_id", "trace_key"])
        }
        var out = decisions
        for i in out.indices where !kept[i] {
            out[i] = try await get(clientID: out[i].clientID, traceKey: out[i].traceKey) ?? out[i]
        }
        return out
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
        let decision = RiskDecision(outcome: try r.known("outcome", as: RiskOutcome.self), score: try r.int("score"),
                                    reasons: reasons, usedFallback: try r.int("used_fallback") != 0)
        return StoredRiskDecision(clientID: try r.string("client_id"), traceKey: try r.string("trace_key"),
                                  document: try r.string("document"), amountCents: Int64(try r.int("amount_cents")),
                                  dueDate: try r.optionalDay("due_date"), metadata: try r.optionalString("metadata"), decision: decision,
                                  external: external, elapsedMs: try r.int("elapsed_ms"), createdAt: try r.date("created_at"))
    }
}

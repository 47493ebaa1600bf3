import EsteiraCore
import Foundation

/// One operator decision on a flagged debt, as asked.
public struct ReviewDecisionRequest: Sendable {
    public var clientID: String
    public var externalID: String
    public var decision: ReviewDecision
    public var note: String?

    public init(clientID: String, externalID: String, decision: ReviewDecision, note: String?) {
        self.clientID = clientID
        self.externalID = externalID
        self.decision = decision
        self.note = note
    }
}

/// Why a list of decisions was refused: each problem with the decision's position.
public struct ReviewRefusal: Error, Sendable {
    public struct Issue: Sendable, Equatable {
        public var index: Int
        /// `not_found` (no such client or debt), `not_in_review` (the debt is not waiting for a
        /// decision), `repeated` (the same debt twice in one list).
        public var code: String
        public var message: String
    }

    public var issues: [Issue]
}

/// Operators' decisions on debts the risk rules flagged (`review`): approved, the debt is
/// `registered`; rejected, it is `rejected` and its open slip cancelled. A list of decisions is
/// all or nothing: one transaction, taken only when every debt named waits for a decision.
public struct DebtReviews: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    struct Decided: Encodable {
        var decision: ReviewDecision
        @Nullable var note: String?
        /// The rules that flagged it: on a rejection, the K-codes it is rejected with.
        var codes: [String]
        var status: DebtStatus
    }

    /// Applies every decision, or none (`ReviewRefusal`); returns each debt's new status.
    public func decide(_ decisions: [ReviewDecisionRequest], by auditActor: AuditActor, now: Date = Date()) async throws -> [DebtStatus] {
        let actor = DebtEventActor(kind: .operator, id: auditActor.operatorID ?? auditActor.name)
        return try await db.write(durable: true) { c in
            var issues: [ReviewRefusal.Issue] = []
            var found: [(clientNum: Int, codes: [String])] = []
            var seen = Set<[String]>()
            for (i, d) in decisions.enumerated() {
                guard seen.insert([d.clientID, d.externalID]).inserted else {
                    issues.append(.init(index: i, code: "repeated", message: "A dívida \(d.externalID) aparece mais de uma vez na lista."))
                    continue
                }
                guard let client = try await c.query("SELECT num FROM clients WHERE id = \(d.clientID)").first,
                      let debt = try await c.query("""
                          SELECT d.status, r.reasons FROM debts d
                          LEFT JOIN debt_reviews r ON r.client_num = d.client_num AND r.external_id = d.external_id
                          WHERE d.client_num = \(try client.int("num")) AND d.external_id = \(d.externalID)\(c.forUpdate(of: "d"))
                          """).first else {
                    issues.append(.init(index: i, code: "not_found", message: "O cliente \(d.clientID) não tem a dívida \(d.externalID)."))
                    continue
                }
                let status = try debt.known("status", as: DebtStatus.self)
                guard status == .review else {
                    issues.append(.init(index: i, code: "not_in_review",
                                        message: "A dívida \(d.externalID) não está em análise (situação: \(status.rawValue))."))
                    continue
                }
                let reasons = try JSONDecoder().decode([RiskReason].self, from: Data((try debt.optionalString("reasons") ?? "[]").utf8))
                found.append((try client.int("num"), reasons.map(\.rule.rawValue)))
            }
            guard issues.isEmpty else { throw ReviewRefusal(issues: issues) }
            var statuses: [DebtStatus] = []
            for (d, debt) in zip(decisions, found) {
                let status = d.decision.status
                try await c.execute("""
                    UPDATE debts SET status = \(status.rawValue) WHERE client_num = \(debt.clientNum) AND external_id = \(d.externalID)
                    """)
                try await DebtHistory.append(c, clientNum: debt.clientNum, externalID: d.externalID, kind: .reviewDecided, actor: actor,
                                             details: Decided(decision: d.decision, note: d.note, codes: debt.codes, status: status), at: now)
                try await AuditLog.record(c, auditActor, action: "review.\(d.decision.rawValue)", target: "debt:\(d.clientID)/\(d.externalID)",
                                          before: AuditLog.values(["status": DebtStatus.review.rawValue]),
                                          after: AuditLog.values(["status": status.rawValue, "note": d.note]), now: now)
                if d.decision == .reject {
                    _ = try await BankslipStore.cancelOpen(c, clientNum: debt.clientNum, externalID: d.externalID, actor: actor, at: now)
                }
                statuses.append(status)
            }
            return statuses
        }
    }
}

import EsteiraCore
import Foundation

/// A withdrawal recorded: the debt's status before it, and whether it had been withdrawn already
/// (a duplicate, which changes nothing).
public struct WithdrawalOutcome: Sendable, Equatable {
    public var duplicate: Bool
    /// The slip cancelled with it, when the debt had one open.
    public var cancelledSlip: Int64?
}

/// Withdrawals (baixa): the creditor takes a debt out of collection. One transaction: the debt
/// becomes `withdrawn`, its open slip `cancelled`, and both are events of its history. A withdrawn
/// debt takes no payment (P005) and no slip.
public struct DebtWithdrawals: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    public static let status = DebtStatus.withdrawn.rawValue

    struct Withdrawn: Encodable {
        var reason: WithdrawalReason
        var note: String?
        var statusBefore: String
        enum CodingKeys: String, CodingKey { case reason, note, statusBefore = "status_before" }

        /// As `JSONText.encoded` writes it (no note when there is none), written by hand.
        var json: String {
            "{" + (note.map { "\"note\":\(JSONText.quoted($0))," } ?? "")
                + "\"reason\":\(JSONText.quoted(reason.rawValue)),\"status_before\":\(JSONText.quoted(statusBefore))}"
        }
    }

    /// Withdraws the client's debt; `StoreError.notFound` when it has no such debt.
    public func withdraw(clientNum: Int, externalID: String, reason: WithdrawalReason, note: String?, actor: DebtEventActor,
                         now: Date = Date()) async throws -> WithdrawalOutcome {
        try await db.write(durable: true) { c in
            try await Self.withdraw(c, clientNum: clientNum, externalID: externalID, reason: reason, note: note, actor: actor, now: now)
        }
    }

    /// `withdraw` in the caller's transaction: the API's call, or a file's row (`RegisterStage`).
    public static func withdraw(_ c: any SQLConnection, clientNum: Int, externalID: String, reason: WithdrawalReason, note: String?,
                                actor: DebtEventActor, now: Date) async throws -> WithdrawalOutcome {
        guard let debt = try await c.query("""
            SELECT status FROM debts WHERE client_num = \(clientNum) AND external_id = \(externalID)\(c.forUpdate)
            """).first else { throw StoreError.notFound("debt \(externalID)") }
        let before = try debt.string("status")
        if before == Self.status { return WithdrawalOutcome(duplicate: true, cancelledSlip: nil) }
        try await c.execute("""
            UPDATE debts SET status = \(Self.status) WHERE client_num = \(clientNum) AND external_id = \(externalID)
            """)
        try await DebtHistory.append(c, clientNum: clientNum, externalID: externalID, kind: .withdrawn, actor: actor,
                                     details: Withdrawn(reason: reason, note: note, statusBefore: before), at: now)
        let slip = try await BankslipStore.cancelOpen(c, clientNum: clientNum, externalID: externalID, actor: actor, at: now)
        return WithdrawalOutcome(duplicate: false, cancelledSlip: slip)
    }
}

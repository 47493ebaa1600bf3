import EsteiraCore
import Foundation

/// A correction recorded: the fields it changed (none: a duplicate) and the debt as it now is.
public struct CorrectionOutcome: Sendable {
    public var changed: [String]
    public var status: String
}

/// Corrections (A): a registered debt's amount, due date, name, e-mail, phone or description
/// changed by its creditor. One transaction: the debt's row, its status when the amount moves
/// past or below what is paid, its open slip replaced by one for the new open amount (or closed
/// when nothing is open), and the change in its history with every field before and after. The
/// document never changes.
public struct DebtCorrections: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// A field's value before and after; an absent value (an e-mail never given) is null.
    struct Change: Encodable {
        @Nullable var before: String?
        @Nullable var after: String?
    }

    struct Corrected: Encodable {
        var changes: [String: Change]
    }

    /// Applies `debt` (validated, its external id the debt's) over what is registered;
    /// `StoreError.notFound` when the client has no such debt.
    public func correct(clientNum: Int, to debt: Debt, actor: DebtEventActor, now: Date = Date()) async throws -> CorrectionOutcome {
        try await db.write(durable: true) { c in
            try await Self.correct(c, clientNum: clientNum, to: debt, actor: actor, now: now)
        }
    }

    /// `correct` in the caller's transaction: the API's call, or a file's row (`RegisterStage`).
    public static func correct(_ c: any SQLConnection, clientNum: Int, to debt: Debt, actor: DebtEventActor,
                               now: Date) async throws -> CorrectionOutcome {
        guard let row = try await c.query("""
            SELECT \(raw: DebtRegistry.columns), paid_cents FROM debts
            WHERE client_num = \(clientNum) AND external_id = \(debt.externalID)\(c.forUpdate)
            """).first else { throw StoreError.notFound("debt \(debt.externalID)") }
        let current = try DebtRegistry.record(row)
        let status = try row.known("status", as: DebtStatus.self)
        let paid = Int64(try row.int("paid_cents"))
        if let refusal = CorrectionRefusal(correcting: RegisteredDebt(debt: current.debt, status: status, paidCents: paid), to: debt) {
            throw refusal
        }

        let before = current.debt
        var changes: [String: Change] = [:]
        func compare(_ field: DebtField, _ old: String?, _ new: String?) {
            if old != new { changes[field.rawValue] = Change(before: old, after: new) }
        }
        compare(.amount, Money.decimalString(cents: before.amountCents), Money.decimalString(cents: debt.amountCents))
        compare(.dueDate, before.dueDate.iso, debt.dueDate.iso)
        compare(.name, before.name, debt.name)
        compare(.email, before.email, debt.email)
        compare(.phone, before.phone, debt.phone)
        compare(.description, before.description, debt.description)
        guard !changes.isEmpty else { return CorrectionOutcome(changed: [], status: status.rawValue) }

        // Paid in full by the new amount, or open again above it; review stays review.
        let newStatus: DebtStatus = switch status {
        case .review: .review
        default: paid == 0 ? .registered : paid == debt.amountCents ? .paid : .partiallyPaid
        }
        try await c.execute("""
            UPDATE debts SET amount_cents = \(debt.amountCents), due_date = \(debt.dueDate), name = \(debt.name), email = \(debt.email),
                   phone = \(debt.phone), description = \(debt.description), status = \(newStatus.rawValue)
            WHERE client_num = \(clientNum) AND external_id = \(debt.externalID)
            """)
        try await DebtHistory.append(c, clientNum: clientNum, externalID: debt.externalID, kind: .corrected, actor: actor,
                                     details: Corrected(changes: changes), at: now)
        if changes[DebtField.amount.rawValue] != nil {
            if newStatus == .paid {
                try await c.execute("""
                    UPDATE bankslips SET status = 'paid' WHERE client_num = \(clientNum) AND external_id = \(debt.externalID) AND status = 'open'
                    """)
            } else {
                try await BankslipStore.replaceOpen(c, clientNum: clientNum, externalID: debt.externalID, openCents: debt.amountCents - paid,
                                                    actor: actor, at: now, evenWithoutOne: status == .paid)
            }
        }
        return CorrectionOutcome(changed: changes.keys.sorted(), status: newStatus.rawValue)
    }
}

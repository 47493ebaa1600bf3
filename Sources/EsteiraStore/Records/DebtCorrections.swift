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

        /// As `JSONText.encoded` writes it, written by hand (see `DebtOperations`).
        var json: String {
            func value(_ v: String?) -> String { v.map(JSONText.quoted) ?? "null" }
            let fields = changes.keys.sorted().map { key -> String in
                let change = changes[key]!
                return "\(JSONText.quoted(key)):{\"after\":\(value(change.after)),\"before\":\(value(change.before))}"
            }
            return "{\"changes\":{" + fields.joined(separator: ",") + "}}"
        }
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
        let current = RegisteredDebt(debt: try DebtRegistry.record(row).debt, status: try row.known("status", as: DebtStatus.self),
                                     paidCents: Int64(try row.int("paid_cents")))
        if let refusal = CorrectionRefusal(correcting: current, to: debt) { throw refusal }
        guard let plan = Self.plan(current, to: debt) else { return CorrectionOutcome(changed: [], status: current.status.rawValue) }
        try await c.execute("""
            UPDATE debts SET amount_cents = \(debt.amountCents), due_date = \(debt.dueDate), name = \(debt.name), email = \(debt.email),
                   phone = \(debt.phone), description = \(debt.description), status = \(plan.status.rawValue)
            WHERE client_num = \(clientNum) AND external_id = \(debt.externalID)
            """)
        try await DebtHistory.append(c, clientNum: clientNum, externalID: debt.externalID, kind: .corrected, actor: actor,
                                     details: plan.details, at: now)
        try await followSlips(c, clientNum: clientNum, current, plan, actor: actor, at: now)
        return CorrectionOutcome(changed: plan.details.changes.keys.sorted(), status: plan.status.rawValue)
    }

    /// What a correction changes: each field with its value before and after, and the status the
    /// debt then has (paid in full by the new amount, or open again above it; review stays
    /// review); nil when it changes nothing. The rule for the API's correction, a file's row and a
    /// file's many rows at once (`DebtOperations`).
    struct Plan {
        var details: Corrected
        var status: DebtStatus
        var amountCents: Int64
        var amountChanged: Bool { details.changes[DebtField.amount.rawValue] != nil }
    }

    static func plan(_ current: RegisteredDebt, to debt: Debt) -> Plan? {
        let before = current.debt
        var changes: [String: Change] = [:]
        func compare(_ field: DebtField, _ old: String?, _ new: String?) {
            if old != new { changes[field.rawValue] = Change(before: old, after: new) }
        }
        // The values are compared first: most fields of a file's correction are unchanged, and
        // their text is written only for the history of those that changed.
        if before.amountCents != debt.amountCents {
            compare(.amount, Money.decimalString(cents: before.amountCents), Money.decimalString(cents: debt.amountCents))
        }
        if before.dueDate != debt.dueDate { compare(.dueDate, before.dueDate.iso, debt.dueDate.iso) }
        compare(.name, before.name, debt.name)
        compare(.email, before.email, debt.email)
        compare(.phone, before.phone, debt.phone)
        compare(.description, before.description, debt.description)
        guard !changes.isEmpty else { return nil }
        let paid = current.paidCents
        let status: DebtStatus = switch current.status {
        case .review: .review
        default: paid == 0 ? .registered : paid == debt.amountCents ? .paid : .partiallyPaid
        }
        return Plan(details: Corrected(changes: changes), status: status, amountCents: debt.amountCents)
    }

    /// The slips after a correction of the amount: closed as paid when nothing is left open,
    /// else the open one replaced by one for what is open (one issued for a debt that was paid).
    static func followSlips(_ c: any SQLConnection, clientNum: Int, _ current: RegisteredDebt, _ plan: Plan, actor: DebtEventActor,
                            at: Date) async throws {
        guard plan.amountChanged else { return }
        let id = current.debt.externalID
        if plan.status == .paid {
            try await c.execute("""
                UPDATE bankslips SET status = 'paid' WHERE client_num = \(clientNum) AND external_id = \(id) AND status = 'open'
                """)
        } else {
            try await BankslipStore.replaceOpen(c, clientNum: clientNum, externalID: id, openCents: plan.amountCents - current.paidCents,
                                                actor: actor, at: at, evenWithoutOne: current.status == .paid)
        }
    }
}
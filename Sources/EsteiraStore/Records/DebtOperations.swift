import EsteiraCore
import Foundation

/// Corrections and withdrawals of many debts at once, in the caller's transaction: a file's rows
/// (`RegisterStage`), one per external id. The same rules, events, slips and notices as
/// `DebtCorrections.correct` and `DebtWithdrawals.withdraw` make one at a time, in a few
/// statements per slice of debts instead of several per debt: the debts read (and locked) by
/// slices, the changes written by slices, the history's events in one insert. Slips and notices
/// are followed one by one, only for the debts that have a slip open (or were paid) and only when
/// the client listens for the event.
public enum DebtOperations {
    public enum Operation: Sendable {
        case correct(Debt)
        case withdraw(externalID: String, reason: WithdrawalReason)

        public var externalID: String {
            switch self {
            case .correct(let debt): debt.externalID
            case .withdraw(let id, _): id
            }
        }
    }

    /// What became of an operation.
    public enum Result: Sendable, Equatable {
        case applied
        /// It changed nothing: a correction to what stands, a withdrawal of a withdrawn debt.
        case unchanged
        case notRegistered
        case refused(CorrectionRefusal)
    }

    /// An operation with who made it and its moment in the history.
    public struct Item: Sendable {
        public var operation: Operation
        public var actor: DebtEventActor
        public var at: Date

        public init(_ operation: Operation, actor: DebtEventActor, at: Date) {
            self.operation = operation
            self.actor = actor
            self.at = at
        }
    }

    /// How many debts one statement writes; PostgreSQL takes up to 65,535 bound values in one.
    static let slice = 400

    /// Applies each item (at most one per external id) and answers what became of each, in order.
    public static func apply(_ c: any SQLConnection, clientNum: Int, _ items: [Item]) async throws -> [Result] {
        let standing = try await DebtRegistry.standing(c, clientNum: clientNum, externalIDs: items.map(\.operation.externalID), lock: true)
        var results: [Result] = []
        results.reserveCapacity(items.count)
        var corrections: [(current: RegisteredDebt, debt: Debt, plan: DebtCorrections.Plan, item: Item)] = []
        var withdrawals: [(current: RegisteredDebt, item: Item)] = []
        var events: [[SQLValue]] = []
        // The events' JSON is written by hand: JSONEncoder took most of the time of a file's
        // corrections (docs/benchmarks.md); a test holds both to the same text.
        func event(_ id: String, _ kind: DebtEventKind, _ item: Item, _ details: String) {
            events.append([.int(Int64(clientNum)), .text(id), .text(kind.rawValue), .timestamp(item.at), .text(item.actor.json), .text(details)])
        }
        for item in items {
            guard let current = standing[item.operation.externalID] else {
                results.append(.notRegistered)
                continue
            }
            switch item.operation {
            case .correct(let debt):
                if let refusal = CorrectionRefusal(correcting: current, to: debt) {
                    results.append(.refused(refusal))
                } else if let plan = DebtCorrections.plan(current, to: debt) {
                    corrections.append((current, debt, plan, item))
                    event(debt.externalID, .corrected, item, plan.details.json)
                    results.append(.applied)
                } else {
                    results.append(.unchanged)
                }
            case .withdraw(let id, let reason):
                if current.status == .withdrawn {
                    results.append(.unchanged)
                } else {
                    withdrawals.append((current, item))
                    event(id, .withdrawn, item, DebtWithdrawals.Withdrawn(reason: reason, note: nil, statusBefore: current.status.rawValue).json)
                    results.append(.applied)
                }
            }
        }

        for start in stride(from: 0, to: corrections.count, by: slice) {
            let values = SQL.values(corrections[start..<min(start + slice, corrections.count)].map { x -> [SQLValue] in
                let d = x.debt
                return [d.externalID.sqlValue, .int(d.amountCents), .day(d.dueDate), d.name.sqlValue, d.email?.sqlValue ?? .null,
                        d.phone?.sqlValue ?? .null, d.description?.sqlValue ?? .null, x.plan.status.rawValue.sqlValue]
            })
            try await c.execute("""
                WITH v (id, amount_cents, due_date, name, email, phone, description, status) AS (VALUES \(values))
                UPDATE debts SET amount_cents = v.amount_cents, due_date = v.due_date, name = v.name, email = v.email, phone = v.phone,
                       description = v.description, status = v.status
                FROM v WHERE debts.client_num = \(clientNum) AND debts.external_id = v.id
                """)
        }
        for start in stride(from: 0, to: withdrawals.count, by: slice) {
            let ids = withdrawals[start..<min(start + slice, withdrawals.count)].map(\.current.debt.externalID)
            try await c.execute("""
                UPDATE debts SET status = \(DebtWithdrawals.status) WHERE client_num = \(clientNum) AND external_id IN (\(list: ids))
                """)
        }
        if !events.isEmpty {
            _ = try await c.insert(into: "debt_events", columns: ["client_num", "external_id", "kind", "at", "actor", "details"], rows: events)
        }

        // Slips: only a debt with one open, or a paid one whose amount went up, has any to follow.
        let touched = corrections.filter(\.plan.amountChanged).map(\.current.debt.externalID) + withdrawals.map(\.current.debt.externalID)
        var withOpenSlip = Set<String>()
        for start in stride(from: 0, to: touched.count, by: slice) {
            let ids = Array(touched[start..<min(start + slice, touched.count)])
            for row in try await c.query("""
                SELECT DISTINCT external_id FROM bankslips WHERE client_num = \(clientNum) AND status = 'open' AND external_id IN (\(list: ids))
                """) {
                withOpenSlip.insert(try row.string("external_id"))
            }
        }
        for x in corrections where x.plan.amountChanged && (withOpenSlip.contains(x.debt.externalID) || x.current.status == .paid) {
            try await DebtCorrections.followSlips(c, clientNum: clientNum, x.current, x.plan, actor: x.item.actor, at: x.item.at)
        }
        for x in withdrawals where withOpenSlip.contains(x.current.debt.externalID) {
            _ = try await BankslipStore.cancelOpen(c, clientNum: clientNum, externalID: x.current.debt.externalID, actor: x.item.actor,
                                                   at: x.item.at)
        }

        // Notices, when the client listens for them.
        let listening = try await NotificationStore.listening(c, clientNum: clientNum, to: [.debtCorrected, .debtWithdrawn])
        if listening.contains(.debtCorrected) {
            for x in corrections {
                try await DebtHistory.notify(c, clientNum: clientNum, externalID: x.debt.externalID, kind: .corrected, actor: x.item.actor,
                                             details: x.plan.details, at: x.item.at)
            }
        }
        if listening.contains(.debtWithdrawn) {
            for x in withdrawals {
                guard case .withdraw(let id, let reason) = x.item.operation else { continue }
                try await DebtHistory.notify(c, clientNum: clientNum, externalID: id, kind: .withdrawn, actor: x.item.actor,
                                             details: DebtWithdrawals.Withdrawn(reason: reason, note: nil,
                                                                                statusBefore: x.current.status.rawValue),
                                             at: x.item.at)
            }
        }
        return results
    }
}

import EsteiraCore
import Foundation

/// Corrections and withdrawals of many debts at once: a file's rows (`RegisterStage`), one per
/// external id. The same rules, events, slips and notices as `DebtCorrections.correct` and
/// `DebtWithdrawals.withdraw` make one at a time, in a few statements per slice of debts instead of
/// several per debt. Slips and notices are followed one by one, only for the debts that have a slip
/// open (or were paid) and only when the client listens for the event.
///
/// In two steps, so that reading and judging can stay out of the writer's transaction (on SQLite
/// the single writer is what every sub-batch waits for, docs/architecture.md):
/// - `plan` reads the debts as they stand, on any connection (a reader's snapshot taken before the
///   transaction), and judges every operation against them;
/// - `apply` writes a plan in the caller's transaction, each change guarded by what was read. A debt
///   that changed meanwhile (a payment, the API, the sub-batch before) fails its guard; then nothing
///   of the plan stays written, and `apply(_:clientNum:_:)` reads and judges inside the transaction.
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

    /// A debt as a plan read it: what the judging saw, and so what its writes are guarded by.
    struct Standing: Sendable {
        var current: RegisteredDebt
        var openSlip: Bool
    }

    /// What an operation of a plan writes.
    enum Change: Sendable {
        /// Nothing: its debt is not registered, or its result changes nothing (unchanged, refused).
        case none
        case correct(DebtCorrections.Plan)
        case withdraw(WithdrawalReason)
    }

    /// Operations judged against the debts as they were read.
    public struct Plan: Sendable {
        public private(set) var items: [Item]
        var results: [Result] = []
        /// Per item: its debt as read (nil: not registered), what it writes, and its event's actor
        /// and details as JSON (none when it writes nothing).
        var standing: [Standing?] = []
        var changes: [Change] = []
        var events: [(actor: String, details: String)?] = []

        /// Gives the operations their moments in the history, in order: taken in the transaction
        /// that writes them, not when they were read.
        public mutating func stamp(_ moments: [Date]) {
            precondition(moments.count == items.count, "one moment per operation")
            for i in items.indices { items[i].at = moments[i] }
        }
    }

    /// Applies each item (at most one per external id) in the caller's transaction and answers what
    /// became of each, in order: read, locked where the database has row locks, judged and written.
    public static func apply(_ c: any SQLConnection, clientNum: Int, _ items: [Item]) async throws -> [Result] {
        // Locked, the debts read cannot change before the writes; only a debt inserted meanwhile by
        // another transaction (PostgreSQL takes no lock on a row that is not there) fails a guard.
        for _ in 0..<3 {
            let plan = try await plan(c, clientNum: clientNum, items, locking: true)
            if let results = try await apply(c, clientNum: clientNum, plan) { return results }
        }
        throw SQLError(code: .busy, message: "debts named by the operations kept changing while they were applied", sql: "")
    }

    /// Reads the debts `items` name and judges each operation. `locking`: inside the transaction that
    /// will write the plan, with the rows locked where the database has row locks; otherwise on any
    /// connection, a reader's.
    public static func plan(_ c: any SQLConnection, clientNum: Int, _ items: [Item], locking: Bool) async throws -> Plan {
        let found = try await standing(c, clientNum: clientNum, externalIDs: items.map(\.operation.externalID), locking: locking)
        var plan = Plan(items: items)
        plan.results.reserveCapacity(items.count)
        plan.standing.reserveCapacity(items.count)
        plan.changes.reserveCapacity(items.count)
        plan.events.reserveCapacity(items.count)
        // The events' JSON is written by hand: JSONEncoder took most of the time of a file's
        // corrections (docs/benchmarks.md); a test holds both to the same text.
        // A file's rows share their actor but for the line: its JSON is written once per batch.
        var actors = ActorJSON()
        for item in items {
            let standing = found[item.operation.externalID]
            var result = Result.unchanged, change = Change.none, details: String?
            if let standing {
                switch item.operation {
                case .correct(let debt):
                    if let refusal = CorrectionRefusal(correcting: standing.current, to: debt) {
                        result = .refused(refusal)
                    } else if let corrected = DebtCorrections.plan(standing.current, to: debt) {
                        (result, change, details) = (.applied, .correct(corrected), corrected.details.json)
                    }
                case .withdraw(_, let reason):
                    if standing.current.status != .withdrawn {
                        let withdrawn = DebtWithdrawals.Withdrawn(reason: reason, note: nil, statusBefore: standing.current.status.rawValue)
                        (result, change, details) = (.applied, .withdraw(reason), withdrawn.json)
                    }
                }
            } else {
                result = .notRegistered
            }
            plan.results.append(result)
            plan.standing.append(standing)
            plan.changes.append(change)
            plan.events.append(details.map { (actors.json(item.actor), $0) })
        }
        return plan
    }

    /// Writes `plan` in the caller's transaction and answers what became of each operation; nil when
    /// a debt no longer stands as the plan read it, and then nothing of the plan is written.
    public static func apply(_ c: any SQLConnection, clientNum: Int, _ plan: Plan) async throws -> [Result]? {
        try await c.execute("SAVEPOINT esteira_operations")
        for start in stride(from: 0, to: plan.items.count, by: slice) {
            guard try await write(c, clientNum: clientNum, plan, start..<min(start + slice, plan.items.count)) else {
                try await c.execute("ROLLBACK TO SAVEPOINT esteira_operations")
                try await c.execute("RELEASE SAVEPOINT esteira_operations")
                return nil
            }
        }
        try await c.execute("RELEASE SAVEPOINT esteira_operations")

        // Slips: only a debt with one open, or a paid one whose amount went up, has any to follow.
        // Notices, when the client listens for them.
        let listening = try await NotificationStore.listening(c, clientNum: clientNum, to: [.debtCorrected, .debtWithdrawn])
        for (i, item) in plan.items.enumerated() {
            guard let standing = plan.standing[i] else { continue }
            switch plan.changes[i] {
            case .none:
                continue
            case .correct(let corrected):
                if corrected.amountChanged && (standing.openSlip || standing.current.status == .paid) {
                    try await DebtCorrections.followSlips(c, clientNum: clientNum, standing.current, corrected, actor: item.actor, at: item.at)
                }
                if listening.contains(.debtCorrected) {
                    try await DebtHistory.notify(c, clientNum: clientNum, externalID: item.operation.externalID, kind: .corrected,
                                                 actor: item.actor, details: corrected.details, at: item.at)
                }
            case .withdraw(let reason):
                if standing.openSlip {
                    _ = try await BankslipStore.cancelOpen(c, clientNum: clientNum, externalID: item.operation.externalID,
                                                           actor: item.actor, at: item.at)
                }
                if listening.contains(.debtWithdrawn) {
                    try await DebtHistory.notify(c, clientNum: clientNum, externalID: item.operation.externalID, kind: .withdrawn,
                                                 actor: item.actor,
                                                 details: DebtWithdrawals.Withdrawn(reason: reason, note: nil,
                                                                                    statusBefore: standing.current.status.rawValue),
                                                 at: item.at)
                }
            }
        }
        return plan.results
    }

    /// The columns a write is guarded by, after the debt's id: each as the plan read it.
    static let guardColumns = "o_name, o_document, o_amount, o_due, o_email, o_phone, o_description, o_status, o_paid, o_slip"

    /// The debt (`debts`) still stands as the plan read it (`v`, `guardColumns`): every field the
    /// judging looked at, and whether it has a slip open. One expression compared with 1: SQLite's
    /// planner takes each `debts.x = v.y` of a WHERE clause as a way into `v`, and for a slice of
    /// 100 debts it scanned the client's whole registry and looked each row up in an index it built
    /// on `v` (half a second a statement on a registry of 40,000).
    static let guarded: SQL = """
        CASE WHEN debts.name = v.o_name AND debts.document = v.o_document AND debts.amount_cents = v.o_amount
                  AND debts.due_date = v.o_due AND debts.email IS NOT DISTINCT FROM v.o_email
                  AND debts.phone IS NOT DISTINCT FROM v.o_phone AND debts.description IS NOT DISTINCT FROM v.o_description
                  AND debts.status = v.o_status AND debts.paid_cents = v.o_paid
                  AND CASE WHEN EXISTS (SELECT 1 FROM bankslips b WHERE b.client_num = debts.client_num
                                        AND b.external_id = debts.external_id AND b.status = 'open') THEN 1 ELSE 0 END = v.o_slip
             THEN 1 ELSE 0 END = 1
        """

    /// The corrections of `rows` (the debt's id, its new amount, due date, name, e-mail, phone,
    /// description and status, then `guardValues`), each written only where its guard holds.
    static func guardedCorrections(clientNum: Int, _ rows: [[SQLValue]]) -> SQL {
        """
        WITH v (id, amount_cents, due_date, name, email, phone, description, status, \(raw: guardColumns))
          AS (VALUES \(SQL.values(rows)))
        UPDATE debts SET amount_cents = v.amount_cents, due_date = v.due_date, name = v.name, email = v.email, phone = v.phone,
               description = v.description, status = v.status
        FROM v WHERE debts.client_num = \(clientNum) AND debts.external_id = v.id AND \(guarded)
        """
    }

    /// The withdrawals of `rows` (the debt's id, then `guardValues`), each written only where its guard holds.
    static func guardedWithdrawals(clientNum: Int, _ rows: [[SQLValue]]) -> SQL {
        """
        WITH v (id, \(raw: guardColumns)) AS (VALUES \(SQL.values(rows)))
        UPDATE debts SET status = \(DebtWithdrawals.status)
        FROM v WHERE debts.client_num = \(clientNum) AND debts.external_id = v.id AND \(guarded)
        """
    }

    /// How many of `rows` (the debt's id, then `guardValues`) still stand as they were read.
    static func stillStanding(clientNum: Int, _ rows: [[SQLValue]]) -> SQL {
        """
        WITH v (id, \(raw: guardColumns)) AS (VALUES \(SQL.values(rows)))
        SELECT COUNT(*) AS n FROM debts, v WHERE debts.client_num = \(clientNum) AND debts.external_id = v.id AND \(guarded)
        """
    }

    static func guardValues(_ s: Standing) -> [SQLValue] {
        let d = s.current.debt
        return [d.name.sqlValue, d.document.value.sqlValue, .int(d.amountCents), .day(d.dueDate), d.email.sqlValue, d.phone.sqlValue,
                d.description.sqlValue, s.current.status.rawValue.sqlValue, .int(s.current.paidCents), .int(s.openSlip ? 1 : 0)]
    }

    /// One slice of a plan: the corrected debts in one statement and the withdrawn in another, each
    /// guarded; the debts it leaves as they are checked in a third, and those it found missing in a
    /// fourth; then the events in one insert. False when a guard or check failed.
    static func write(_ c: any SQLConnection, clientNum: Int, _ plan: Plan, _ range: Range<Int>) async throws -> Bool {
        var corrections: [[SQLValue]] = [], withdrawals: [[SQLValue]] = [], kept: [[SQLValue]] = [], missing: [String] = []
        var events: [[SQLValue]] = []
        for i in range {
            let item = plan.items[i], id = item.operation.externalID
            guard let standing = plan.standing[i] else {
                missing.append(id)
                continue
            }
            switch (plan.changes[i], item.operation) {
            case (.correct(let corrected), .correct(let d)):
                corrections.append([id.sqlValue, .int(d.amountCents), .day(d.dueDate), d.name.sqlValue, d.email.sqlValue, d.phone.sqlValue,
                                    d.description.sqlValue, corrected.status.rawValue.sqlValue] + guardValues(standing))
            case (.withdraw, _):
                withdrawals.append([id.sqlValue] + guardValues(standing))
            default:
                kept.append([id.sqlValue] + guardValues(standing))
            }
            if let (actor, details) = plan.events[i] {
                let kind: DebtEventKind = if case .withdraw = plan.changes[i] { .withdrawn } else { .corrected }
                events.append([.int(Int64(clientNum)), .text(id), .text(kind.rawValue), .timestamp(item.at), .text(actor), .text(details)])
            }
        }
        if !corrections.isEmpty {
            guard try await c.execute(guardedCorrections(clientNum: clientNum, corrections)) == corrections.count else { return false }
        }
        if !withdrawals.isEmpty {
            guard try await c.execute(guardedWithdrawals(clientNum: clientNum, withdrawals)) == withdrawals.count else { return false }
        }
        if !kept.isEmpty {
            guard try await c.query(stillStanding(clientNum: clientNum, kept)).first?.int("n") == kept.count else { return false }
        }
        if !missing.isEmpty {
            let found = try await c.query("""
                SELECT COUNT(*) AS n FROM debts WHERE client_num = \(clientNum) AND external_id IN (\(list: missing))
                """).first?.int("n")
            guard found == 0 else { return false }
        }
        if !events.isEmpty {
            _ = try await c.insert(into: "debt_events", columns: ["client_num", "external_id", "kind", "at", "actor", "details"], rows: events)
        }
        return true
    }

    /// The debts `externalIDs` name as they stand, each with whether it has a slip open: read in one
    /// statement per slice, by position. `locking`: locked for update, where the database has row locks.
    static func standing(_ c: any SQLConnection, clientNum: Int, externalIDs: [String], locking: Bool) async throws -> [String: Standing] {
        var out: [String: Standing] = [:]
        out.reserveCapacity(externalIDs.count)
        for start in stride(from: 0, to: externalIDs.count, by: slice) {
            let ids = Array(externalIDs[start..<min(start + slice, externalIDs.count)])
            for r in try await c.query("""
                SELECT d.external_id, d.name, d.document, d.amount_cents, d.due_date, d.email, d.phone, d.description, d.status,
                       d.paid_cents,
                       CASE WHEN EXISTS (SELECT 1 FROM bankslips b WHERE b.client_num = d.client_num
                                         AND b.external_id = d.external_id AND b.status = 'open') THEN 1 ELSE 0 END AS open_slip
                FROM debts d WHERE d.client_num = \(clientNum) AND d.external_id IN (\(list: ids))\(locking ? c.forUpdate : "")
                """) {
                guard let document = TaxID.stored(try r.string(at: 2)) else {
                    throw SQLError(code: .decode, message: "registry holds an invalid document", sql: "")
                }
                let debt = Debt(externalID: try r.string(at: 0), name: try r.string(at: 1), document: document,
                                amountCents: Int64(try r.int(at: 3)), dueDate: try r.day(at: 4), email: try r.optionalString(at: 5),
                                phone: try r.optionalString(at: 6), description: try r.optionalString(at: 7))
                guard let status = DebtStatus(rawValue: try r.string(at: 8)) else {
                    throw SQLError(code: .decode, message: "registry holds an unknown status", sql: "")
                }
                out[debt.externalID] = Standing(current: RegisteredDebt(debt: debt, status: status, paidCents: Int64(try r.int(at: 9))),
                                                openSlip: try r.int(at: 10) != 0)
            }
        }
        return out
    }

    /// `DebtEventActor.json`, its head written once for each actor in a row (a file's rows share
    /// their batch and differ by the line).
    struct ActorJSON {
        var last: (kind: DebtEventActor.Kind, id: String, head: String)?

        mutating func json(_ actor: DebtEventActor) -> String {
            if let last, last.kind == actor.kind, last.id == actor.id {
                return DebtEventActor.json(head: last.head, line: actor.line)
            }
            let head = actor.jsonHead
            last = (actor.kind, actor.id, head)
            return DebtEventActor.json(head: head, line: actor.line)
        }
    }
}

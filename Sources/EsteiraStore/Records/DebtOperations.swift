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

    /// How many slices are read ahead of the one being judged (see `apply`).
    static let readAhead = 3

    /// How many slices' writes may wait on the connection while the next slice is judged.
    static let writesAhead = 2

    typealias Correction = (current: RegisteredDebt, debt: Debt, plan: DebtCorrections.Plan, item: Item, openSlip: Bool, row: Int64?)
    typealias Withdrawal = (current: RegisteredDebt, item: Item, openSlip: Bool, row: Int64?)

    /// Applies each item (at most one per external id) and answers what became of each, in order.
    ///
    /// By slices, in a pipeline: while the database writes slice k and reads the slices
    /// `readAhead` ahead (one statement after another on the transaction's connection), slice k+1
    /// is judged here. On SQLite the whole file's corrections hold the single writer; judging them
    /// in the gaps keeps it busy with statements only. With one slice read ahead, the writer still
    /// waited for the judging between slices (docs/benchmarks.md); a slice's writes go in one turn
    /// of the connection for the same reason.
    public static func apply(_ c: any SQLConnection, clientNum: Int, _ items: [Item]) async throws -> [Result] {
        var results: [Result] = []
        results.reserveCapacity(items.count)
        var corrections: [Correction] = []
        var withdrawals: [Withdrawal] = []
        // The events' JSON is written by hand: JSONEncoder took most of the time of a file's
        // corrections (docs/benchmarks.md); a test holds both to the same text.
        // A file's rows share their actor but for the line: its JSON is written once per batch.
        var actors = ActorJSON()
        let slices = stride(from: 0, to: items.count, by: slice).map { $0..<min($0 + slice, items.count) }
        // Reads and writes are sent to the connection as soon as they are known (`SQLConnection.send`):
        // awaiting a task that then queues them left SQLite's writer idle for a hop each time.
        func read(_ k: Int) -> Task<[String: Standing], any Error> {
            let rows = c.sendQueryText(standingQuery(c, clientNum: clientNum, externalIDs: items[slices[k]].map(\.operation.externalID)))
            return Task { try standing(try await rows.value) }
        }
        // Whether the client listens for the changes does not depend on them: asked meanwhile.
        let listening = Task { try await NotificationStore.listening(c, clientNum: clientNum, to: [.debtCorrected, .debtWithdrawn]) }
        var reading = (0..<min(readAhead, slices.count)).map(read)
        // Each slice's statements are kept here until they have run, so that their values, made on
        // this side, are freed on this side too (`SQLiteHandle.start`). Freed on the connection's
        // thread, each went back to the allocator's arena of the thread that made it, under that
        // arena's lock, while this side allocated there: glibc's malloc then put SQLite's writer to
        // sleep on the lock, again and again (docs/benchmarks.md).
        var writing: [(done: Task<[Int], any Error>, statements: [SQL])] = []
        do {
            for k in slices.indices {
                let standing = try await reading[k].value
                if k + readAhead < slices.count { reading.append(read(k + readAhead)) }
                let firstCorrection = corrections.count, firstWithdrawal = withdrawals.count
                var events: [[SQLValue]] = []
                func event(_ id: String, _ kind: DebtEventKind, _ item: Item, _ details: String) {
                    events.append([.int(Int64(clientNum)), .text(id), .text(kind.rawValue), .timestamp(item.at),
                                   .text(actors.json(item.actor)), .text(details)])
                }
                for item in items[slices[k]] {
                    guard let found = standing[item.operation.externalID] else {
                        results.append(.notRegistered)
                        continue
                    }
                    let current = found.current
                    switch item.operation {
                    case .correct(let debt):
                        if let refusal = CorrectionRefusal(correcting: current, to: debt) {
                            results.append(.refused(refusal))
                        } else if let plan = DebtCorrections.plan(current, to: debt) {
                            corrections.append((current, debt, plan, item, found.openSlip, found.row))
                            event(debt.externalID, .corrected, item, plan.details.json)
                            results.append(.applied)
                        } else {
                            results.append(.unchanged)
                        }
                    case .withdraw(let id, let reason):
                        if current.status == .withdrawn {
                            results.append(.unchanged)
                        } else {
                            withdrawals.append((current, item, found.openSlip, found.row))
                            event(id, .withdrawn, item,
                                  DebtWithdrawals.Withdrawn(reason: reason, note: nil, statusBefore: current.status.rawValue).json)
                            results.append(.applied)
                        }
                    }
                }
                // At most `writesAhead` slices' writes wait on the connection, a bound on what is held.
                if writing.count >= writesAhead { _ = try await writing.removeFirst().done.value }
                let statements = writes(clientNum: clientNum, corrections[firstCorrection...], withdrawals[firstWithdrawal...], events: events)
                writing.append((c.send(statements), statements))
            }
            for w in writing { _ = try await w.done.value }
        } catch {
            // The connection is the caller's transaction's: nothing may still be using it on return.
            for r in reading { _ = try? await r.value }
            for w in writing { _ = try? await w.done.value }
            _ = try? await listening.value
            throw error
        }
        let listens = try await listening.value

        // Slips: only a debt with one open, or a paid one whose amount went up, has any to follow.
        for x in corrections where x.plan.amountChanged && (x.openSlip || x.current.status == .paid) {
            try await DebtCorrections.followSlips(c, clientNum: clientNum, x.current, x.plan, actor: x.item.actor, at: x.item.at)
        }
        for x in withdrawals where x.openSlip {
            _ = try await BankslipStore.cancelOpen(c, clientNum: clientNum, externalID: x.current.debt.externalID, actor: x.item.actor,
                                                   at: x.item.at)
        }

        // Notices, when the client listens for them.
        if listens.contains(.debtCorrected) {
            for x in corrections {
                try await DebtHistory.notify(c, clientNum: clientNum, externalID: x.debt.externalID, kind: .corrected, actor: x.item.actor,
                                             details: x.plan.details, at: x.item.at)
            }
        }
        if listens.contains(.debtWithdrawn) {
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

    /// One slice's changes: the corrected debts in one statement, the withdrawn in another, and
    /// their events in one insert, sent to the connection together (`SQLConnection.executeAll`).
    static func writes(clientNum: Int, _ corrections: ArraySlice<Correction>, _ withdrawals: ArraySlice<Withdrawal>,
                       events: [[SQLValue]]) -> [SQL] {
        var statements: [SQL] = []
        // On SQLite each debt is found by the row its reading found; elsewhere by its key.
        let byRow = corrections.allSatisfy { $0.row != nil } && withdrawals.allSatisfy { $0.row != nil }
        if !corrections.isEmpty {
            let values = SQL.values(corrections.map { x -> [SQLValue] in
                let d = x.debt
                return [x.row.map(SQLValue.int) ?? d.externalID.sqlValue, .int(d.amountCents), .day(d.dueDate), d.name.sqlValue,
                        d.email?.sqlValue ?? .null, d.phone?.sqlValue ?? .null, d.description?.sqlValue ?? .null,
                        x.plan.status.rawValue.sqlValue]
            })
            let match: SQL = byRow ? "debts.rowid = v.id" : "debts.client_num = \(clientNum) AND debts.external_id = v.id"
            statements.append("""
                WITH v (id, amount_cents, due_date, name, email, phone, description, status) AS (VALUES \(values))
                UPDATE debts SET amount_cents = v.amount_cents, due_date = v.due_date, name = v.name, email = v.email, phone = v.phone,
                       description = v.description, status = v.status
                FROM v WHERE \(match)
                """)
        }
        if !withdrawals.isEmpty {
            let match: SQL = byRow ? "rowid IN (\(list: withdrawals.compactMap(\.row)))"
                : "client_num = \(clientNum) AND external_id IN (\(list: withdrawals.map(\.current.debt.externalID)))"
            statements.append("""
                UPDATE debts SET status = \(DebtWithdrawals.status) WHERE \(match)
                """)
        }
        if !events.isEmpty {
            statements.append("""
                INSERT INTO debt_events (client_num, external_id, kind, at, actor, details) VALUES \(SQL.values(events))
                """)
        }
        return statements
    }

    /// A debt as it stands in the transaction, with whether it has a slip open and, on SQLite, its
    /// row: the changes then find it by row, not again through the key's index.
    struct Standing {
        var current: RegisteredDebt
        var openSlip: Bool
        var row: Int64?
    }

    /// The debts `externalIDs` name as they stand (locked on PostgreSQL), read in one statement per
    /// slice, by position. A file's corrections are read inside the register transaction, which holds
    /// SQLite's single writer: a lookup by name per value, or a second statement for the slips, is
    /// paid once per row while every other writer waits.
    static func standingQuery(_ c: any SQLConnection, clientNum: Int, externalIDs ids: [String]) -> SQL {
        """
        SELECT \(raw: c.dialect == .sqlite ? "d.rowid" : "NULL"), d.external_id, d.name, d.document, d.amount_cents, d.due_date, d.email, d.phone, d.description, d.status,
               d.paid_cents,
               CASE WHEN EXISTS (SELECT 1 FROM bankslips b WHERE b.client_num = d.client_num
                                 AND b.external_id = d.external_id AND b.status = 'open') THEN 1 ELSE 0 END AS open_slip
        FROM debts d WHERE d.client_num = \(clientNum) AND d.external_id IN (\(list: ids))\(c.forUpdate)
        """
    }

    /// The rows of `standingQuery`, by external id. They come as text in one buffer
    /// (`SQLTextRows`): values read one by one were each made on the connection's thread and freed
    /// on this one (see `apply`).
    static func standing(_ rows: SQLTextRows) throws -> [String: Standing] {
        try rows.withRows { v in
            var out: [String: Standing] = [:]
            out.reserveCapacity(v.count)
            for r in 0..<v.count {
                func fail(_ what: String) -> SQLError { SQLError(code: .decode, message: "registry holds \(what)", sql: "") }
                guard let externalID = v.string(r, 1), let name = v.string(r, 2), let documentText = v.string(r, 3),
                      let amount = v.int(r, 4), let paid = v.int(r, 10), let openSlip = v.int(r, 11) else {
                    throw fail("a debt with a missing value")
                }
                guard let document = TaxID.stored(documentText) else { throw fail("an invalid document") }
                guard let due = v.day(r, 5) else { throw fail("an invalid due date") }
                guard let statusText = v.string(r, 9), let status = DebtStatus(rawValue: statusText) else { throw fail("an unknown status") }
                let debt = Debt(externalID: externalID, name: name, document: document, amountCents: amount, dueDate: due,
                                email: v.string(r, 6), phone: v.string(r, 7), description: v.string(r, 8))
                out[externalID] = Standing(current: RegisteredDebt(debt: debt, status: status, paidCents: paid), openSlip: openSlip != 0,
                                           row: v.int(r, 0))
            }
            return out
        }
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

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A file's corrections and withdrawals are read and judged before the register transaction
/// (`DebtOperations.plan` on a reader) and written in it only while every debt stands as it was
/// read. Whatever changed in between, the plan writes nothing, and the operations are judged again
/// in the transaction against what stands then.
@Suite("Operations read ahead: written only while the debts stand as they were read")
struct DebtOperationsReadAheadTests {
    /// The debts each case starts from, with its prefix: P-1 (8000 cents, no e-mail), P-2 and P-3
    /// (8000 cents each), all registered, none paid, no slip; P-4 does not exist.
    static func register(_ c: any SQLConnection, clientNum: Int, prefix: String) async throws {
        for n in 1...3 {
            try await c.execute("""
                INSERT INTO debts (client_num, external_id, name, document, amount_cents, due_date, status, batch_id, line, created_at, doc_key)
                VALUES (\(clientNum), \(prefix + "-\(n)"), 'Ana', '24843803480', 8000, \(Day(year: 2026, month: 1, day: 5)!), 'registered',
                        'b', \(n + 1), \(Date()), 24843803480)
                """)
        }
    }

    /// P-1 corrected to 9000 cents, P-2 withdrawn, P-3 "corrected" to what it is, P-4 withdrawn.
    static func items(prefix: String) throws -> [DebtOperations.Item] {
        let document = try TaxID.parse("24843803480").get()
        func debt(_ n: Int, cents: Int64) -> Debt {
            Debt(externalID: "\(prefix)-\(n)", name: "Ana", document: document, amountCents: cents, dueDate: Day(year: 2026, month: 1, day: 5)!,
                 email: nil, phone: nil, description: nil)
        }
        let actor = DebtEventActor(kind: .batch, id: "b-\(prefix)", line: 2)
        return [
            .init(.correct(debt(1, cents: 9000)), actor: actor, at: Date()),
            .init(.withdraw(externalID: "\(prefix)-2", reason: .paidToCreditor), actor: actor, at: Date()),
            .init(.correct(debt(3, cents: 8000)), actor: actor, at: Date()),
            .init(.withdraw(externalID: "\(prefix)-4", reason: .paidToCreditor), actor: actor, at: Date()),
        ]
    }

    static func state(_ db: any SQLDatabase, clientNum: Int, prefix: String) async throws -> [String] {
        try await db.read { c in
            try await c.query("""
                SELECT external_id, amount_cents, status,
                       (SELECT COUNT(*) FROM debt_events e WHERE e.client_num = d.client_num AND e.external_id = d.external_id) AS events
                FROM debts d WHERE client_num = \(clientNum) AND external_id LIKE \(prefix + "-%") ORDER BY external_id
                """).map { "\(try $0.string("external_id")) \(try $0.int("amount_cents")) \(try $0.string("status")) \(try $0.int("events"))" }
        }
    }

    @Test("nothing changed: the plan is written as judged", arguments: TestDatabase.dialects)
    func holds(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let (client, _) = try await ClientStore(db: db).create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            try await db.write { c in try await Self.register(c, clientNum: client.num, prefix: "H") }
            let plan = try await db.read { c in try await DebtOperations.plan(c, clientNum: client.num, Self.items(prefix: "H"), locking: false) }
            let results = try await db.write { c in try await DebtOperations.apply(c, clientNum: client.num, plan) }
            #expect(results == [.applied, .applied, .unchanged, .notRegistered])
            // P-1 corrected (one event), P-2 withdrawn (one event), P-3 as it was.
            #expect(try await Self.state(db, clientNum: client.num, prefix: "H") == ["H-1 9000 registered 1", "H-2 8000 withdrawn 1",
                                                                                      "H-3 8000 registered 0"])
        }
    }

    /// Each change made between the reading and the writing breaks one part of the guard: a field
    /// of a debt written (P-1's payment, its e-mail given where it had none), a slip opened for a
    /// debt withdrawn (P-2), a debt left as it is that changed (P-3), a debt not there that came
    /// (P-4).
    @Test("a change between the reading and the writing: nothing of the plan is written, and the transaction judges again",
          arguments: TestDatabase.dialects)
    func stale(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let (client, _) = try await ClientStore(db: db).create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let num = client.num
            let meanwhile: [(prefix: String, change: SQL, expected: [String], results: [DebtOperations.Result])] = [
                // Paid 1000 cents: corrected to 9000, P-1 is partially paid.
                ("PAY", "UPDATE debts SET paid_cents = 1000 WHERE client_num = \(num) AND external_id = 'PAY-1'",
                 ["PAY-1 9000 partially_paid 1", "PAY-2 8000 withdrawn 1", "PAY-3 8000 registered 0"],
                 [.applied, .applied, .unchanged, .notRegistered]),
                // An e-mail given to P-1: the correction (without one) takes it away.
                ("MAIL", "UPDATE debts SET email = 'ana@example.com' WHERE client_num = \(num) AND external_id = 'MAIL-1'",
                 ["MAIL-1 9000 registered 1", "MAIL-2 8000 withdrawn 1", "MAIL-3 8000 registered 0"],
                 [.applied, .applied, .unchanged, .notRegistered]),
                // A slip opened for P-2: its withdrawal cancels it (a second event of P-2's).
                ("SLIP", """
                    INSERT INTO bankslips (client_num, external_id, our_number, amount_cents, due_date, barcode, digitable_line, pix_payload,
                                           status, created_at)
                    VALUES (\(num), 'SLIP-2', 77, 8000, \(Day(year: 2026, month: 1, day: 5)!), 'b', 'd', 'p', 'open', \(Date()))
                    """,
                 ["SLIP-1 9000 registered 1", "SLIP-2 8000 withdrawn 2", "SLIP-3 8000 registered 0"],
                 [.applied, .applied, .unchanged, .notRegistered]),
                // P-3's name corrected: the row that names it as it was is now a correction back.
                ("NAME", "UPDATE debts SET name = 'Ana Maria' WHERE client_num = \(num) AND external_id = 'NAME-3'",
                 ["NAME-1 9000 registered 1", "NAME-2 8000 withdrawn 1", "NAME-3 8000 registered 1"],
                 [.applied, .applied, .applied, .notRegistered]),
                // P-4 registered: its withdrawal applies.
                ("NEW", """
                    INSERT INTO debts (client_num, external_id, name, document, amount_cents, due_date, status, batch_id, line, created_at, doc_key)
                    VALUES (\(num), 'NEW-4', 'Ana', '24843803480', 8000, \(Day(year: 2026, month: 1, day: 5)!), 'registered', 'b', 5, \(Date()),
                            24843803480)
                    """,
                 ["NEW-1 9000 registered 1", "NEW-2 8000 withdrawn 1", "NEW-3 8000 registered 0", "NEW-4 8000 withdrawn 1"],
                 [.applied, .applied, .unchanged, .applied]),
            ]
            for m in meanwhile {
                try await db.write { c in try await Self.register(c, clientNum: num, prefix: m.prefix) }
                let items = try Self.items(prefix: m.prefix)
                let plan = try await db.read { c in try await DebtOperations.plan(c, clientNum: num, items, locking: false) }
                try await db.write { c in try await c.execute(m.change) }
                let stale = try await db.write { c in try await DebtOperations.apply(c, clientNum: num, plan) }
                #expect(stale == nil, "\(m.prefix)")
                #expect(try await Self.state(db, clientNum: num, prefix: m.prefix).allSatisfy {
                    $0.hasSuffix(" 8000 registered 0")
                }, "\(m.prefix): nothing written")
                let results = try await db.write { c in try await DebtOperations.apply(c, clientNum: num, items) }
                #expect(results == m.results, "\(m.prefix)")
                #expect(try await Self.state(db, clientNum: num, prefix: m.prefix) == m.expected, "\(m.prefix)")
            }
        }
    }
}

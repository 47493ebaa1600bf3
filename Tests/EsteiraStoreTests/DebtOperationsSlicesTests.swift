import EsteiraCore
@testable import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// `DebtOperations.apply` reads several slices ahead of the one it judges and writes each slice's
/// changes in one turn of the connection. With many more operations than slices read ahead, every
/// result still answers its own operation, in order, and the registry and the history end as the
/// rules say, one debt at a time.
@Suite("Operations by slices: many slices read ahead, each result in its place")
struct DebtOperationsSlicesTests {
    static let registered = 2_000
    static let operations = 2_600

    /// What the operation on S-i does, by i (worked by hand from the rules, docs/portfolio.md):
    /// S-0…S-1999 are registered at 8000 cents, those with i % 6 == 4 already withdrawn; S-2000 and
    /// on do not exist.
    /// - i % 6 == 0: corrected to 9000 cents: applied;
    /// - i % 6 == 1: "corrected" to what it is: unchanged;
    /// - i % 6 == 2: withdrawn: applied;
    /// - i % 6 == 3: corrected with another document: refused (R016);
    /// - i % 6 == 4: withdrawn again: unchanged;
    /// - i % 6 == 5: corrected to 7000 cents: applied.
    static func expected(_ i: Int) -> DebtOperations.Result {
        guard i < registered else { return .notRegistered }
        switch i % 6 {
        case 1, 4: return .unchanged
        case 3: return .refused(.documentChanged)
        default: return .applied
        }
    }

    /// Amount, status and events of S-i after the operations.
    static func expectedState(_ i: Int) -> String {
        let cents = i % 6 == 0 ? 9000 : i % 6 == 5 ? 7000 : 8000
        let status = i % 6 == 2 || i % 6 == 4 ? "withdrawn" : "registered"
        let events = expected(i) == .applied ? 1 : 0
        return "\(cents) \(status) \(events)"
    }

    static func id(_ i: Int) -> String { "S-" + String(repeating: "0", count: 4 - String(i).count) + String(i) }

    @Test("2,600 operations, more slices than are read ahead: each result and each debt as the rules say",
          arguments: TestDatabase.dialects)
    func manySlices(dialect: SQLDialect) async throws {
        #expect(Self.operations > DebtOperations.slice * (DebtOperations.readAhead + 2))
        try await TestDatabase.with(dialect) { db in
            let (client, _) = try await ClientStore(db: db).create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let num = client.num
            let due = Day(year: 2026, month: 1, day: 5)!
            try await db.write { c in
                let rows: [[SQLValue]] = (0..<Self.registered).map { i in
                    [.int(Int64(num)), .text(Self.id(i)), .text("Ana"), .text("24843803480"), .int(8000), .day(due),
                     .text(i % 6 == 4 ? "withdrawn" : "registered"), .text("b"), .int(Int64(i + 2)), .timestamp(Date()), .int(24843803480)]
                }
                try await c.insert(into: "debts", columns: ["client_num", "external_id", "name", "document", "amount_cents", "due_date",
                                                            "status", "batch_id", "line", "created_at", "doc_key"], rows: rows)
            }
            let ana = try TaxID.parse("24843803480").get(), other = try TaxID.parse("52998224725").get()
            func debt(_ i: Int, cents: Int64, document: TaxID) -> Debt {
                Debt(externalID: Self.id(i), name: "Ana", document: document, amountCents: cents, dueDate: due, email: nil, phone: nil,
                     description: nil)
            }
            let items: [DebtOperations.Item] = (0..<Self.operations).map { i in
                let operation: DebtOperations.Operation = switch i % 6 {
                case 0: .correct(debt(i, cents: 9000, document: ana))
                case 1: .correct(debt(i, cents: 8000, document: ana))
                case 3: .correct(debt(i, cents: 8000, document: other))
                case 5: .correct(debt(i, cents: 7000, document: ana))
                default: .withdraw(externalID: Self.id(i), reason: .paidToCreditor)
                }
                return .init(operation, actor: DebtEventActor(kind: .batch, id: "b", line: i + 2), at: Date())
            }
            let results = try await db.write { c in try await DebtOperations.apply(c, clientNum: num, items) }
            #expect(results.count == Self.operations)
            let wrong = results.indices.filter { results[$0] != Self.expected($0) }
            #expect(wrong.isEmpty, "first results out of place: \(wrong.prefix(5).map { "\($0): \(results[$0])" })")

            let state = try await db.read { c in
                try await c.query("""
                    SELECT external_id, amount_cents, status,
                           (SELECT COUNT(*) FROM debt_events e WHERE e.client_num = d.client_num AND e.external_id = d.external_id) AS events
                    FROM debts d WHERE client_num = \(num) ORDER BY external_id
                    """).map { "\(try $0.int("amount_cents")) \(try $0.string("status")) \(try $0.int("events"))" }
            }
            #expect(state.count == Self.registered)
            let off = state.indices.filter { state[$0] != Self.expectedState($0) }
            #expect(off.isEmpty, "first debts off: \(off.prefix(5).map { "\(Self.id($0)): \(state[$0])" })")
        }
    }
}

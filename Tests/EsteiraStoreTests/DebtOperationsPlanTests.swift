import EsteiraCore
@testable import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The statements that write a file's operations find each debt by its key, whatever the number of
/// debts in the slice: with 100 withdrawals, SQLite once planned a scan of the client's whole
/// registry with a lookup in an index it built on the slice, half a second a statement.
@Suite("Operations' statements: each debt found by its key (SQLite's plan)")
struct DebtOperationsPlanTests {
    static let byKey = "SEARCH debts USING INDEX sqlite_autoindex_debts_1 (client_num=? AND external_id=?)"

    @Test("corrections, withdrawals and the check of the debts left as they are, for 3 to 400 debts", arguments: [3, 100, 400])
    func byKey(debts: Int) async throws {
        try await TestDatabase.with(.sqlite) { db in
            let document = try TaxID.parse("24843803480").get()
            let standing = DebtOperations.Standing(
                current: RegisteredDebt(debt: Debt(externalID: "x", name: "Ana", document: document, amountCents: 8000,
                                                   dueDate: Day(year: 2026, month: 1, day: 5)!, email: nil, phone: nil, description: nil),
                                        status: .registered, paidCents: 0),
                openSlip: false)
            let guardValues = DebtOperations.guardValues(standing)
            let ids = (0..<debts).map { "D-\($0)" }
            let corrections = ids.map { [$0.sqlValue, .int(9000), .day(Day(year: 2026, month: 2, day: 5)!), "Ana".sqlValue, .null, .null, .null,
                                         "registered".sqlValue] + guardValues }
            let others = ids.map { [$0.sqlValue] + guardValues }
            for sql in [DebtOperations.guardedCorrections(clientNum: 1, corrections), DebtOperations.guardedWithdrawals(clientNum: 1, others),
                        DebtOperations.stillStanding(clientNum: 1, others)] {
                let plan = try await db.query("EXPLAIN QUERY PLAN " + sql).map { try $0.string("detail") }
                #expect(plan.contains(Self.byKey), "\(plan)")
                #expect(!plan.contains { $0.contains("AUTOMATIC") }, "\(plan)")
            }
        }
    }
}

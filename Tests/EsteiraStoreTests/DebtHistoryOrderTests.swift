import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A debt's history tells its changes in the order they were made: the order the database
/// recorded them under the debt's row lock, even when a change's moment was taken before it
/// waited for that lock.
@Suite("History: changes in the order they were made")
struct DebtHistoryOrderTests {
    /// CI on a4c7246 (DebtRaceContractTests.twoFiles, PostgreSQL): a withdrawal took its moment,
    /// waited while a correction held the row, and was recorded after it; read by moment, the
    /// history said withdrawn, then corrected, of a debt whose amount was the correction's.
    @Test("a change recorded after another, with an earlier moment, still comes after it", arguments: TestDatabase.dialects)
    func recordedOrder(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let (client, _) = try await ClientStore(db: db).create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let registered = Date().addingTimeInterval(-60)
            try await db.write { c in
                try await c.execute("""
                    INSERT INTO debts (client_num, external_id, name, document, amount_cents, due_date, status, batch_id, line, created_at, doc_key)
                    VALUES (\(client.num), 'R1', 'Ana', '24843803480', 8000, \(Day(year: 2026, month: 1, day: 5)!), 'withdrawn', 'b', 2, \(registered), 24843803480)
                    """)
                // Recorded first: the correction, at t+2 s; then the withdrawal, whose moment (t+1 s)
                // was taken before it waited for the row.
                for (kind, seconds) in [("corrected", 2.0), ("withdrawn", 1.0)] {
                    try await c.execute("""
                        INSERT INTO debt_events (client_num, external_id, kind, at, actor, details)
                        VALUES (\(client.num), 'R1', \(kind), \(registered.addingTimeInterval(seconds)), '{"id":"b","kind":"batch"}', '{}')
                        """)
                }
            }
            let events = try #require(try await DebtHistory(db: db).events(clientNum: client.num, externalID: "R1"))
            #expect(events.map(\.kind.rawValue) == ["registered", "corrected", "withdrawn"])
        }
    }
}

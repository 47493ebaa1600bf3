import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Logging
import Testing

@Suite("Ledger reconciliation, once per interval however many processes schedule it")
struct LedgerReconcilerTests {
    static let day = Duration.seconds(86_400)

    @Test("when the next scheduled run is due, from the last one any process kept")
    func nextRun() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        // Nothing kept yet: due now, then a day later.
        #expect(LedgerReconciler.nextRun(lastRanAt: nil, now: now, interval: Self.day) == (true, Self.day))
        // Another process ran an hour ago: skipped; look again 24 h - 1 h + 1.2 h (a twentieth of a
        // day) = 24.2 h = 87,120 s from now, just after that process's next run.
        let hourAgo = LedgerReconciler.nextRun(lastRanAt: now.addingTimeInterval(-3_600), now: now, interval: Self.day)
        #expect(hourAgo == (false, .seconds(87_120)))
        // 21.5 h ago is under 90% of a day (21.6 h): still skipped, look again in 2.5 + 1.2 = 3.7 h = 13,320 s.
        let late = LedgerReconciler.nextRun(lastRanAt: now.addingTimeInterval(-77_400), now: now, interval: Self.day)
        #expect(late == (false, .seconds(13_320)))
        // 23 h ago is past 90%: due. A record from the future (another machine's clock ahead) does not block it.
        #expect(LedgerReconciler.nextRun(lastRanAt: now.addingTimeInterval(-82_800), now: now, interval: Self.day).due)
        #expect(LedgerReconciler.nextRun(lastRanAt: now.addingTimeInterval(600), now: now, interval: Self.day).due)
    }

    @Test("a scheduled run skips when another process reconciled lately, and runs when none did", arguments: TestDatabase.dialects)
    func runIfDue(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let store = LedgerStore(db: db)
            let reconciler = LedgerReconciler(db: db, logger: Logger(label: "test"), interval: Self.day)
            func kept() async throws -> Int { try await db.query("SELECT COUNT(*) AS n FROM ledger_reconciliations")[0].int("n") }

            // Kept two days ago: due, and this run is kept too.
            try await store.record(accounts: 0, days: 0, differences: [], at: Date().addingTimeInterval(-172_800))
            #expect(try await reconciler.runIfDue().ran)
            #expect(try await kept() == 2)
            // That run is seconds old: a second process's turn skips, and keeps nothing.
            #expect(try await reconciler.runIfDue().ran == false)
            #expect(try await kept() == 2)
        }
    }
}

import EsteiraTestSupport
import EsteiraCore
import EsteiraStore
import Foundation
import Testing

@Suite("Cash ledger on SQLite and PostgreSQL")
struct LedgerStoreTests {
    static let day1 = Day(year: 2026, month: 11, day: 16)!

    static func draft(_ side: LedgerSide, _ cents: Int64, day: Day, account: String = "12345-6", branch: String = "0001",
                      key: String = UUID().uuidString.lowercased(), description: String = "lançamento") -> LedgerEntryDraft {
        LedgerEntryDraft(branch: branch, account: account, amountCents: cents, side: side, eventCode: "PAGAMENTO", description: description,
                         traceKey: key, details: #"{"origem":"teste"}"#, referenceDate: day)
    }

    @Test("the seed's statement: C 8, C 1, D 1, D 10, C 14 on five days give 8, 9, 8, -2, 12, whatever order they are posted in",
          arguments: TestDatabase.dialects)
    func seedStatement(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let ledger = LedgerStore(db: db)
            let d = (0..<5).map { Self.day1.adding(days: $0) }
            // Posted last day first, then the others retroactively, the last two in one request.
            _ = try await ledger.post(clientNum: 1, [Self.draft(.credit, 1400, day: d[4])])
            _ = try await ledger.post(clientNum: 1, [Self.draft(.credit, 800, day: d[0])])
            _ = try await ledger.post(clientNum: 1, [Self.draft(.debit, 1000, day: d[3])])
            _ = try await ledger.post(clientNum: 1, [Self.draft(.credit, 100, day: d[1]), Self.draft(.debit, 100, day: d[2])])
            let account = try #require(try await ledger.accountID(clientNum: 1, branch: "0001", account: "12345-6"))
            let balances = try await ledger.balances(accountID: account, from: d[0], to: d[4])
            #expect(balances.map(\.balanceCents) == [800, 900, 800, -200, 1200])
            #expect(balances.map(\.runningCreditsCents) == [800, 900, 900, 900, 2300])
            #expect(balances.map(\.runningDebitsCents) == [0, 0, 100, 1100, 1100])
            let statement = try await ledger.statement(accountID: account, from: d[0], to: d[4], page: 1)
            #expect(statement.lines.map(\.balanceAfterCents) == [800, 900, 800, -200, 1200])
            #expect(statement.lines.map(\.balanceBeforeCents) == [0, 800, 900, 800, -200])
            // A page of two starting at the third entry (D 1 on day 3) knows the balance before it: 9.
            let page2 = try await ledger.statement(accountID: account, from: d[0], to: d[4], page: 2, perPage: 2)
            #expect(page2.lines.map(\.balanceBeforeCents) == [900, 800] && page2.lines.map(\.balanceAfterCents) == [800, -200] && page2.hasMore)
            // Days around: before the first, carried zero; after the last, carried 12.
            let wider = try await ledger.balances(accountID: account, from: d[0].adding(days: -1), to: d[4].adding(days: 1))
            #expect(wider.first?.balanceCents == 0 && wider.last?.balanceCents == 1200 && wider.last?.creditsCents == 0)
            #expect(try await ledger.reconcile().differences.isEmpty)
        }
    }

    @Test("a trace key sent again: the same content answers the first result, other content is refused (L008)",
          arguments: TestDatabase.dialects)
    func idempotency(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let ledger = LedgerStore(db: db)
            let key = "0b8f5f4e-2f7c-4a57-9d0e-6b7c1f0a9e11"
            let first = try await ledger.post(clientNum: 1, [Self.draft(.credit, 500, day: Self.day1, key: key)])
            #expect(!first.replayed && first.entries.first?.balanceAfterCents == 500)
            _ = try await ledger.post(clientNum: 1, [Self.draft(.credit, 100, day: Self.day1)])
            let again = try await ledger.post(clientNum: 1, [Self.draft(.credit, 500, day: Self.day1, key: key)])
            #expect(again.replayed && again.entries.first?.id == first.entries.first?.id && again.entries.first?.balanceAfterCents == 500)
            do {
                _ = try await ledger.post(clientNum: 1, [Self.draft(.credit, 501, day: Self.day1, key: key)])
                Issue.record("a reused trace key with other content was accepted")
            } catch let rejection as LedgerRejection {
                #expect(rejection.issues.map(\.rule) == [.traceKeyReused] && rejection.issues.first?.field == "trace_key")
            }
            // The same key belongs to each client on its own.
            #expect(try await ledger.post(clientNum: 2, [Self.draft(.credit, 501, day: Self.day1, key: key)]).replayed == false)
            let account = try #require(try await ledger.accountID(clientNum: 1, branch: "0001", account: "12345-6"))
            #expect(try await ledger.balances(accountID: account, from: Self.day1, to: Self.day1).first?.balanceCents == 600)
            #expect(try await ledger.reconcile().differences.isEmpty)
        }
    }

    /// 8 writers post 20,000 entries (requests of 1 to 10) in random order over `accounts`
    /// accounts and the 8 days of the window; the expected day rows are summed here from the
    /// generated entries, and the reconciliation recomputes them from the stored ones.
    func concurrent(_ db: any SQLDatabase, accounts: Int) async throws {
        let ledger = LedgerStore(db: db)
        var rng = SplitMix(seed: 20_000 + UInt64(accounts))
        let days = (0..<8).map { Self.day1.adding(days: $0) }
        var all: [LedgerEntryDraft] = []
        for _ in 0..<20_000 {
            all.append(Self.draft(Bool.random(using: &rng) ? .credit : .debit, Int64.random(in: 1...100_000, using: &rng),
                                  day: days.randomElement(using: &rng)!, account: "C\(Int.random(in: 0..<accounts, using: &rng))"))
        }
        var requests: [[LedgerEntryDraft]] = []
        var i = 0
        while i < all.count {
            let n = Int.random(in: 1...10, using: &rng)
            requests.append(Array(all[i..<min(i + n, all.count)]))
            i += n
        }
        let shares = (0..<8).map { w in stride(from: w, to: requests.count, by: 8).map { requests[$0] } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for share in shares {
                group.addTask { for r in share { _ = try await ledger.post(clientNum: 1, r) } }
            }
            try await group.waitForAll()
        }
        let report = try await ledger.reconcile()
        #expect(report.differences.isEmpty, "\(report.differences.prefix(5))")
        #expect(report.accounts == accounts)
        // The expected balances, from the generated entries alone.
        for a in 0..<accounts {
            let mine = all.filter { $0.account == "C\(a)" }
            let id = try #require(try await ledger.accountID(clientNum: 1, branch: "0001", account: "C\(a)"))
            let stored = try await ledger.balances(accountID: id, from: days[0], to: days[7])
            var running: Int64 = 0
            var expected: [Int64] = []
            for d in days {
                running += mine.filter { $0.referenceDate == d }.reduce(0) { $0 + $1.signedCents }
                expected.append(running)
            }
            #expect(stored.map(\.balanceCents) == expected, "account C\(a)")
        }
    }

    @Test("8 concurrent writers, 20,000 entries over 50 accounts and every day of the window: no difference", arguments: TestDatabase.dialects)
    func concurrentSpread(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in try await concurrent(db, accounts: 50) }
    }

    @Test("8 concurrent writers, 20,000 entries on one account: no difference", arguments: TestDatabase.dialects)
    func concurrentHot(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in try await concurrent(db, accounts: 1) }
    }

    @Test("group commit: 400 concurrent small requests, one reusing a key with other content and two sharing a key; each answered as if alone",
          arguments: TestDatabase.dialects)
    func groupCommit(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let committer = LedgerCommitter(store: LedgerStore(db: db))
            let used = "11111111-2222-4333-8444-555555555555"
            _ = try await committer.post(clientNum: 1, [Self.draft(.credit, 100, day: Self.day1, key: used)])
            let shared = "99999999-2222-4333-8444-555555555555"
            // 400 requests of one or two entries (1,2,1,2,…: 600 entries of 1 cent each), plus
            // the reused key and the shared one twice.
            var requests: [[LedgerEntryDraft]] = (0..<400).map { i in
                (0...(i % 2)).map { _ in Self.draft(.credit, 1, day: Self.day1, account: "G\(i % 7)") }
            }
            requests.append([Self.draft(.credit, 999, day: Self.day1, key: used)])
            requests.append([Self.draft(.credit, 5, day: Self.day1, account: "S", key: shared)])
            requests.append([Self.draft(.credit, 5, day: Self.day1, account: "S", key: shared)])
            let results = await withTaskGroup(of: (Int, Result<LedgerPosting, any Error>).self) { group in
                for (i, r) in requests.enumerated() {
                    group.addTask {
                        do { return (i, .success(try await committer.post(clientNum: 1, r))) } catch { return (i, .failure(error)) }
                    }
                }
                var out = [Result<LedgerPosting, any Error>?](repeating: nil, count: requests.count)
                for await (i, r) in group { out[i] = r }
                return out
            }
            for i in 0..<400 {
                guard case .success(let p) = results[i] else { Issue.record("request \(i) failed"); continue }
                #expect(p.entries.count == i % 2 + 1 && !p.replayed)
            }
            guard case .failure(let e) = results[400], let rejection = e as? LedgerRejection else { Issue.record("the reused key was accepted"); return }
            #expect(rejection.issues.map(\.rule) == [.traceKeyReused] && rejection.issues.first?.index == 0)
            // The shared key: posted once, the other send answered with it.
            guard case .success(let a) = results[401], case .success(let b) = results[402] else { Issue.record("shared key failed"); return }
            #expect(a.entries.first?.id == b.entries.first?.id && a.replayed != b.replayed)
            // 1 + 600 + 1 entries; 600 cents over the G accounts, by hand.
            #expect(try await db.query("SELECT COUNT(*) AS n FROM ledger_entries")[0].int("n") == 602)
            #expect(try await db.query("SELECT SUM(balance_cents) AS s FROM ledger_accounts WHERE account LIKE 'G%'")[0].int("s") == 600)
            #expect(try await LedgerStore(db: db).reconcile().differences.isEmpty)
        }
    }

    @Test("the catalog: events created and changed", arguments: TestDatabase.dialects)
    func events(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let ledger = LedgerStore(db: db)
            try await ledger.saveEvent(LedgerEvent(code: "PIX", description: "PIX recebido", active: true, allowsDebit: false, allowsCredit: true))
            try await ledger.saveEvent(LedgerEvent(code: "PIX", description: "PIX", active: false, allowsDebit: false, allowsCredit: true))
            // The two events that come with Esteira (debt payments and their reversals), then ours.
            #expect(try await ledger.events() == [
                LedgerEvent(code: "ESTORNO_PAGAMENTO", description: "Estorno de pagamento de dívida", active: true, allowsDebit: true, allowsCredit: false),
                LedgerEvent(code: "PAGAMENTO_DIVIDA", description: "Pagamento de dívida recebido", active: true, allowsDebit: false, allowsCredit: true),
                LedgerEvent(code: "PIX", description: "PIX", active: false, allowsDebit: false, allowsCredit: true),
            ])
        }
    }
}

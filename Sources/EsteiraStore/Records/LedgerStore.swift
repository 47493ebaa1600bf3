import Crypto
import EsteiraCore
import Foundation
import Synchronization

/// An entry as the ledger keeps it: what was asked (its fields read through, `posted.branch`),
/// with its id, when, and the account's balance right after it (in posting order).
@dynamicMemberLookup
public struct PostedEntry: Sendable, Equatable {
    public var id: Int
    public var entry: LedgerEntryDraft
    public var createdAt: Date
    public var balanceAfterCents: Int64

    public subscript<T>(dynamicMember field: KeyPath<LedgerEntryDraft, T>) -> T { entry[keyPath: field] }
}

/// The result of posting: the entries, and whether they were all there already (an idempotent
/// re-send, answered with the first result).
public struct LedgerPosting: Sendable {
    public var entries: [PostedEntry]
    /// True when every entry had been posted before.
    public var replayed: Bool
    /// For each entry, whether it had been posted before.
    var each: [Bool] = []

    public init(entries: [PostedEntry], replayed: Bool) {
        self.entries = entries
        self.replayed = replayed
    }

    init(entries: [PostedEntry], each: [Bool]) {
        self.entries = entries
        self.each = each
        replayed = !each.contains(false)
    }

    /// The part of a posting made for several requests at once that belongs to one of them.
    func slice(_ range: Range<Int>) -> LedgerPosting {
        LedgerPosting(entries: Array(entries[range]), each: Array(each[range]))
    }
}

/// One day of an account: the day's totals and the running totals up to and including it.
public struct DailyBalance: Sendable, Equatable {
    public var day: Day
    public var debitsCents: Int64
    public var creditsCents: Int64
    public var runningDebitsCents: Int64
    public var runningCreditsCents: Int64
    public var balanceCents: Int64 { runningCreditsCents - runningDebitsCents }

    public init(day: Day, debitsCents: Int64, creditsCents: Int64, runningDebitsCents: Int64, runningCreditsCents: Int64) {
        self.day = day
        self.debitsCents = debitsCents
        self.creditsCents = creditsCents
        self.runningDebitsCents = runningDebitsCents
        self.runningCreditsCents = runningCreditsCents
    }
}

/// A statement line: the entry, with the balance before and after it in statement order
/// (reference date, then id).
public struct StatementLine: Sendable {
    public var entry: PostedEntry
    public var balanceBeforeCents: Int64
    public var balanceAfterCents: Int64
}

/// A stored figure that differs from the one recomputed from the entries.
public struct LedgerDifference: Sendable, Equatable, CustomStringConvertible {
    public var accountID: Int
    /// Nil for the account's balance; the day for a daily row.
    public var day: Day?
    public var what: String
    public var stored: Int64
    public var recomputed: Int64

    public var description: String { "account \(accountID) \(day?.iso ?? "balance") \(what): stored \(stored), entries say \(recomputed)" }
}

/// The cash ledger. An account's entries are ordered by a lock on its row: each posting locks
/// its accounts (in id order, so two postings never wait on each other in a cycle), appends the
/// entries, and adds to the account's balance and to the daily rows — the day's totals and the
/// running totals of that day and every later one — in set-based statements whose count does
/// not grow with the number of entries. Additions commute, so concurrent postings to different
/// accounts never conflict, and on one account they queue on its lock.
public struct LedgerStore: Sendable {
    let db: any SQLDatabase
    /// Account ids already looked up: an account, once created, keeps its id for ever, so a
    /// process that keeps one store (the API does) skips that lookup on later postings.
    let knownAccounts: AccountIDs

    public init(db: any SQLDatabase) {
        self.db = db
        knownAccounts = AccountIDs()
    }

    final class AccountIDs: Sendable {
        struct Key: Hashable { var client: Int; var account: AccountKey }
        let ids = Mutex<[Key: Int]>([:])
        /// More than this many and the map starts over (a million accounts would be ~100 MB).
        let limit = 200_000
    }

    // MARK: - Events

    public func events() async throws -> [LedgerEvent] {
        try await db.query("SELECT code, description, active, allows_debit, allows_credit FROM ledger_events ORDER BY code").map(Self.event)
    }

    public func eventsByCode() async throws -> [String: LedgerEvent] {
        Dictionary(uniqueKeysWithValues: try await events().map { ($0.code, $0) })
    }

    /// Creates the event or replaces its description and flags.
    public func saveEvent(_ e: LedgerEvent, by actor: AuditActor? = nil) async throws {
        let now = Date()
        try await db.write(durable: true) { c in
            let before = try await c.query("SELECT code, description, active, allows_debit, allows_credit FROM ledger_events WHERE code = \(e.code)")
                .first.map(LedgerStore.event)
            if let actor {
                func values(_ e: LedgerEvent) -> String {
                    AuditLog.values(["description": e.description, "active": "\(e.active)", "allows_debit": "\(e.allowsDebit)",
                                     "allows_credit": "\(e.allowsCredit)"])
                }
                try await AuditLog.record(c, actor, action: "ledger.event", target: "ledger_event:\(e.code)", before: before.map(values),
                                          after: values(e), now: now)
            }
            let changed = try await c.execute("""
                UPDATE ledger_events SET description = \(e.description), active = \(e.active ? 1 : 0), allows_debit = \(e.allowsDebit ? 1 : 0),
                       allows_credit = \(e.allowsCredit ? 1 : 0), updated_at = \(now) WHERE code = \(e.code)
                """)
            if changed == 0 {
                try await c.execute("""
                    INSERT INTO ledger_events (code, description, active, allows_debit, allows_credit, updated_at)
                    VALUES (\(e.code), \(e.description), \(e.active ? 1 : 0), \(e.allowsDebit ? 1 : 0), \(e.allowsCredit ? 1 : 0), \(now))
                    """)
            }
        }
    }

    static func event(_ r: SQLRow) throws -> LedgerEvent {
        LedgerEvent(code: try r.string("code"), description: try r.string("description"), active: try r.int("active") != 0,
                    allowsDebit: try r.int("allows_debit") != 0, allowsCredit: try r.int("allows_credit") != 0)
    }

    // MARK: - Posting

    /// Posts the entries, all or nothing. A trace key already used with the same content is not
    /// posted again: its first result is answered; with other content it refuses the request
    /// (L008). Throws `LedgerRejection`.
    public func post(clientNum: Int, _ drafts: [LedgerEntryDraft], now: Date = Date()) async throws -> LedgerPosting {
        guard !drafts.isEmpty else { return LedgerPosting(entries: [], each: []) }
        let accounts = try await accountIDs(clientNum: clientNum, Set(drafts.map { AccountKey(branch: $0.branch, account: $0.account) }))
        do {
            return try await db.write(durable: true) { c in try await Self.post(c, clientNum: clientNum, drafts, accounts: accounts, now: now) }
        } catch let error as SQLError where error.code == .constraint {
            // Another posting took one of these trace keys between our check and our insert:
            // once it has committed, this one is a re-send (or a reuse) and is answered as such.
            return try await db.write(durable: true) { c in try await Self.post(c, clientNum: clientNum, drafts, accounts: accounts, now: now) }
        }
    }

    /// Posts in the caller's transaction, for a caller that writes more with it (the asynchronous
    /// request's result and notification). The accounts must exist: `prepareAccounts` first.
    public func post(in c: any SQLConnection, clientNum: Int, _ drafts: [LedgerEntryDraft], accounts: PreparedAccounts,
                     now: Date = Date()) async throws -> LedgerPosting {
        try await Self.post(c, clientNum: clientNum, drafts, accounts: accounts.ids, now: now)
    }

    /// The accounts of `drafts`, created when missing, outside any posting's transaction.
    public func prepareAccounts(clientNum: Int, _ drafts: [LedgerEntryDraft]) async throws -> PreparedAccounts {
        PreparedAccounts(ids: try await accountIDs(clientNum: clientNum, Set(drafts.map { AccountKey(branch: $0.branch, account: $0.account) })))
    }

    public struct PreparedAccounts: Sendable {
        let ids: [AccountKey: Int]
    }

    struct AccountKey: Hashable, Sendable {
        var branch: String
        var account: String
    }

    /// The accounts' ids, creating those that do not exist yet in a transaction of their own: the
    /// posting's transaction then only locks rows that exist (creating them inside it could make
    /// two postings wait on each other's new account).
    func accountIDs(clientNum: Int, _ keys: Set<AccountKey>) async throws -> [AccountKey: Int] {
        let sorted = keys.sorted { ($0.branch, $0.account) < ($1.branch, $1.account) }
        @Sendable func read(_ query: (SQL) async throws -> [SQLRow]) async throws -> [AccountKey: Int] {
            var out: [AccountKey: Int] = [:]
            for r in try await query("""
                SELECT id, branch, account FROM ledger_accounts
                WHERE client_num = \(clientNum) AND (branch, account) IN (\(SQL.values(sorted.map { [.text($0.branch), .text($0.account)] })))
                """) {
                out[AccountKey(branch: try r.string("branch"), account: try r.string("account"))] = try r.int("id")
            }
            return out
        }
        let cached: [AccountKey: Int] = knownAccounts.ids.withLock { ids in
            var out: [AccountKey: Int] = [:]
            for k in keys { if let id = ids[.init(client: clientNum, account: k)] { out[k] = id } }
            return out
        }
        if cached.count == keys.count { return cached }
        var found = try await read(db.query)
        if found.count < keys.count {
            let now = Date()
            let missing = sorted.filter { found[$0] == nil }
            found = try await db.write(durable: true) { c in
                _ = try await c.insert(into: "ledger_accounts", columns: ["client_num", "branch", "account", "balance_cents", "entries", "created_at"],
                                       rows: missing.map { [.int(Int64(clientNum)), .text($0.branch), .text($0.account), .int(0), .int(0), .timestamp(now)] },
                                       ignoringConflictsOn: ["client_num", "branch", "account"])
                return try await read(c.query)
            }
        }
        knownAccounts.ids.withLock { ids in
            if ids.count > knownAccounts.limit { ids.removeAll() }
            for (k, id) in found { ids[.init(client: clientNum, account: k)] = id }
        }
        return found
    }

    static func fingerprint(_ d: LedgerEntryDraft) -> String {
        Hex.encode(SHA256.hash(data: Data(d.fingerprint.utf8)))
    }

    static let entryColumns = """
        e.id, a.branch, a.account, e.amount_cents, e.side, e.event_code, e.description, e.trace_key, e.details, e.reference_date,
        e.created_at, e.balance_after_cents
        """

    static func entry(_ r: SQLRow) throws -> PostedEntry {
        PostedEntry(id: try r.int("id"),
                    entry: LedgerEntryDraft(branch: try r.string("branch"), account: try r.string("account"),
                                            amountCents: Int64(try r.int("amount_cents")), side: try r.known("side", as: LedgerSide.self),
                                            eventCode: try r.string("event_code"), description: try r.string("description"),
                                            traceKey: try r.string("trace_key"), details: try r.optionalString("details"),
                                            referenceDate: try r.day("reference_date")),
                    createdAt: try r.date("created_at"), balanceAfterCents: Int64(try r.int("balance_after_cents")))
    }

    static func post(_ c: any SQLConnection, clientNum: Int, _ drafts: [LedgerEntryDraft], accounts: [AccountKey: Int],
                     now: Date) async throws -> LedgerPosting {
        // Trace keys seen before: the same content is a re-send, other content a refusal.
        let fingerprints = drafts.map(fingerprint)
        var previous: [String: (fingerprint: String, entry: PostedEntry)] = [:]
        for r in try await c.query("""
            SELECT \(raw: entryColumns), e.fingerprint FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
            WHERE e.client_num = \(clientNum) AND e.trace_key IN (\(list: drafts.map(\.traceKey)))
            """) {
            let entry = try entry(r)
            previous[entry.traceKey] = (try r.string("fingerprint"), entry)
        }
        var issues: [LedgerIssue] = []
        for (i, d) in drafts.enumerated() {
            if let p = previous[d.traceKey], p.fingerprint != fingerprints[i] {
                issues.append(LedgerIssue(index: i, field: "trace_key", rule: .traceKeyReused,
                                          message: "A chave de rastreio \(d.traceKey) já foi usada no lançamento \(p.entry.id), com outro conteúdo."))
            }
        }
        if !issues.isEmpty { throw LedgerRejection(issues: issues) }
        let fresh = drafts.indices.filter { previous[drafts[$0].traceKey] == nil }
        if fresh.isEmpty {
            return LedgerPosting(entries: drafts.compactMap { previous[$0.traceKey]?.entry }, each: drafts.map { _ in true })
        }

        // Lock the accounts, in id order, and read their balances.
        let ids = Set(fresh.compactMap { accounts[AccountKey(branch: drafts[$0].branch, account: drafts[$0].account)] }).sorted()
        guard ids.count == Set(fresh.map { AccountKey(branch: drafts[$0].branch, account: drafts[$0].account) }).count else {
            throw StoreError.notFound("ledger account")
        }
        var balance: [Int: Int64] = [:]
        for r in try await c.query("SELECT id, balance_cents FROM ledger_accounts WHERE id IN (\(list: ids)) ORDER BY id\(c.forUpdate)") {
            balance[try r.int("id")] = Int64(try r.int("balance_cents"))
        }

        // The entries, each with the balance after it in posting order.
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(fresh.count)
        var perDay: [DayKey: (debits: Int64, credits: Int64)] = [:]
        var perAccount: [Int: (delta: Int64, count: Int64)] = [:]
        var afters: [String: Int64] = [:]
        for i in fresh {
            let d = drafts[i]
            let account = accounts[AccountKey(branch: d.branch, account: d.account)]!
            let after = balance[account, default: 0] + d.signedCents
            balance[account] = after
            afters[d.traceKey] = after
            rows.append([.int(Int64(clientNum)), .int(Int64(account)), .int(d.amountCents), .text(d.side.rawValue), .text(d.eventCode),
                         .text(d.description), .text(d.traceKey), d.details.map { .text($0) } ?? .null, .day(d.referenceDate),
                         .text(fingerprints[i]), .int(after), .timestamp(now)])
            var day = perDay[DayKey(account: account, day: d.referenceDate), default: (0, 0)]
            if d.side == .debit { day.debits += d.amountCents } else { day.credits += d.amountCents }
            perDay[DayKey(account: account, day: d.referenceDate)] = day
            perAccount[account, default: (0, 0)].delta += d.signedCents
            perAccount[account, default: (0, 0)].count += 1
        }
        var insertedIDs: [String: Int] = [:]
        for r in try await c.query("""
            INSERT INTO ledger_entries (client_num, account_id, amount_cents, side, event_code, description, trace_key, details,
                                        reference_date, fingerprint, balance_after_cents, created_at)
            VALUES \(SQL.values(rows)) RETURNING id, trace_key
            """) {
            insertedIDs[try r.string("trace_key")] = try r.int("id")
        }

        // The accounts' balances.
        let accountValues = SQL.values(perAccount.sorted { $0.key < $1.key }.map { [.int(Int64($0.key)), .int($0.value.delta), .int($0.value.count)] })
        try await c.execute("""
            WITH v (id, delta, n) AS (VALUES \(accountValues))
            UPDATE ledger_accounts SET balance_cents = ledger_accounts.balance_cents + v.delta, entries = ledger_accounts.entries + v.n
            FROM v WHERE ledger_accounts.id = v.id
            """)

        // The daily rows: the days that have none get one, carrying the running totals of the
        // day before; then each day adds its own totals, and every day from it on its running ones.
        let dayRows = perDay.sorted { ($0.key.account, $0.key.day) < ($1.key.account, $1.key.day) }
            .map { [SQLValue.int(Int64($0.key.account)), .day($0.key.day), .int($0.value.debits), .int($0.value.credits)] }
        try await c.execute("""
            WITH v (account_id, day, d, c) AS (VALUES \(SQL.values(dayRows)))
            INSERT INTO ledger_balances (account_id, day, debits_cents, credits_cents, running_debits_cents, running_credits_cents)
            SELECT v.account_id, v.day, 0, 0,
                   COALESCE((SELECT p.running_debits_cents FROM ledger_balances p WHERE p.account_id = v.account_id AND p.day < v.day
                             ORDER BY p.day DESC LIMIT 1), 0),
                   COALESCE((SELECT p.running_credits_cents FROM ledger_balances p WHERE p.account_id = v.account_id AND p.day < v.day
                             ORDER BY p.day DESC LIMIT 1), 0)
            FROM v WHERE true
            ON CONFLICT (account_id, day) DO NOTHING
            """)
        // One row of additions per day row touched: its own day's totals, and the running ones
        // of every day of the request up to it.
        try await c.execute("""
            WITH v (account_id, day, d, c) AS (VALUES \(SQL.values(dayRows))),
            t AS (
                SELECT b.account_id, b.day,
                       SUM(CASE WHEN v.day = b.day THEN v.d ELSE 0 END) AS own_d, SUM(CASE WHEN v.day = b.day THEN v.c ELSE 0 END) AS own_c,
                       SUM(v.d) AS run_d, SUM(v.c) AS run_c
                FROM ledger_balances b JOIN v ON v.account_id = b.account_id AND v.day <= b.day
                GROUP BY b.account_id, b.day
            )
            UPDATE ledger_balances SET
                debits_cents = ledger_balances.debits_cents + t.own_d, credits_cents = ledger_balances.credits_cents + t.own_c,
                running_debits_cents = ledger_balances.running_debits_cents + t.run_d,
                running_credits_cents = ledger_balances.running_credits_cents + t.run_c
            FROM t WHERE ledger_balances.account_id = t.account_id AND ledger_balances.day = t.day
            """)

        let entries = drafts.map { d -> PostedEntry in
            if let p = previous[d.traceKey] { return p.entry }
            return PostedEntry(id: insertedIDs[d.traceKey] ?? 0, entry: d, createdAt: now, balanceAfterCents: afters[d.traceKey] ?? 0)
        }
        return LedgerPosting(entries: entries, each: drafts.map { previous[$0.traceKey] != nil })
    }

    struct DayKey: Hashable {
        var account: Int
        var day: Day
    }

    // MARK: - Reading

    /// The client's account, or nil (another client's account is as good as absent).
    public func accountID(clientNum: Int, branch: String, account: String) async throws -> Int? {
        try await db.query("""
            SELECT id FROM ledger_accounts WHERE client_num = \(clientNum) AND branch = \(branch) AND account = \(account)
            """).first.map { try $0.int("id") }
    }

    public func entries(clientNum: Int, traceKey: String) async throws -> [PostedEntry] {
        try await db.query("""
            SELECT \(raw: Self.entryColumns) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
            WHERE e.client_num = \(clientNum) AND e.trace_key = \(traceKey.lowercased())
            """).map(Self.entry)
    }

    /// Every day from `from` to `to`, days without entries included (their totals zero, their
    /// running totals carried from the day before).
    public func balances(accountID: Int, from: Day, to: Day) async throws -> [DailyBalance] {
        try await db.read { c in
            let opening = try await c.query("""
                SELECT running_debits_cents, running_credits_cents FROM ledger_balances
                WHERE account_id = \(accountID) AND day < \(from) ORDER BY day DESC LIMIT 1
                """).first
            var runningD = Int64(try opening?.int("running_debits_cents") ?? 0)
            var runningC = Int64(try opening?.int("running_credits_cents") ?? 0)
            var stored: [Day: DailyBalance] = [:]
            for r in try await c.query("""
                SELECT day, debits_cents, credits_cents, running_debits_cents, running_credits_cents FROM ledger_balances
                WHERE account_id = \(accountID) AND day >= \(from) AND day <= \(to) ORDER BY day
                """) {
                let b = try Self.balance(r)
                stored[b.day] = b
            }
            var out: [DailyBalance] = []
            var day = from
            while day <= to {
                if let b = stored[day] {
                    runningD = b.runningDebitsCents
                    runningC = b.runningCreditsCents
                    out.append(b)
                } else {
                    out.append(DailyBalance(day: day, debitsCents: 0, creditsCents: 0, runningDebitsCents: runningD, runningCreditsCents: runningC))
                }
                day = day.adding(days: 1)
            }
            return out
        }
    }

    static func balance(_ r: SQLRow) throws -> DailyBalance {
        DailyBalance(day: try r.day("day"), debitsCents: Int64(try r.int("debits_cents")), creditsCents: Int64(try r.int("credits_cents")),
                     runningDebitsCents: Int64(try r.int("running_debits_cents")), runningCreditsCents: Int64(try r.int("running_credits_cents")))
    }

    /// The entries dated `from` to `to`, in order (reference date, then id), a page at a time,
    /// each with the balance before and after it.
    public func statement(accountID: Int, from: Day, to: Day, page: Int, perPage: Int = 100) async throws -> (lines: [StatementLine], hasMore: Bool) {
        try await db.read { c in
            let rows = try await c.query("""
                SELECT \(raw: Self.entryColumns) FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
                WHERE e.account_id = \(accountID) AND e.reference_date >= \(from) AND e.reference_date <= \(to)
                ORDER BY e.reference_date, e.id LIMIT \(perPage + 1) OFFSET \(Page<Int>.offset(page: page, perPage: perPage))
                """).map(Self.entry)
            guard let first = rows.first else { return ([], false) }
            // The balance before the page's first entry: the running balance of the day before its
            // day, and the entries of its day that come before it.
            let dayBefore = try await c.query("""
                SELECT running_debits_cents, running_credits_cents FROM ledger_balances
                WHERE account_id = \(accountID) AND day < \(first.referenceDate) ORDER BY day DESC LIMIT 1
                """).first
            var balance = Int64(try dayBefore?.int("running_credits_cents") ?? 0) - Int64(try dayBefore?.int("running_debits_cents") ?? 0)
            let sameDay = try await c.query("""
                SELECT COALESCE(SUM(CASE WHEN side = 'C' THEN amount_cents ELSE -amount_cents END), 0) AS s FROM ledger_entries
                WHERE account_id = \(accountID) AND reference_date = \(first.referenceDate) AND id < \(first.id)
                """)
            balance += Int64(try sameDay.first?.int("s") ?? 0)
            var lines: [StatementLine] = []
            for e in rows.prefix(perPage) {
                let after = balance + (e.side == .credit ? e.amountCents : -e.amountCents)
                lines.append(StatementLine(entry: e, balanceBeforeCents: balance, balanceAfterCents: after))
                balance = after
            }
            return (lines, rows.count > perPage)
        }
    }

    // MARK: - Reconciliation

    /// A reconciliation as kept: when it ran and what it found.
    public struct Reconciliation: Sendable, Equatable {
        public var ranAt: Date
        public var accounts: Int
        public var days: Int
        public var differences: Int
    }

    /// The first ten differences, for the log and the kept record.
    public static func firstDifferences(_ differences: [LedgerDifference]) -> String {
        differences.prefix(10).map(\.description).joined(separator: "; ")
    }

    /// Keeps what a reconciliation found, with its first ten differences.
    public func record(accounts: Int, days: Int, differences: [LedgerDifference], at now: Date = Date()) async throws {
        let first = Self.firstDifferences(differences)
        try await db.write { c in
            try await c.execute("""
                INSERT INTO ledger_reconciliations (ran_at, accounts, account_days, differences, first_differences)
                VALUES (\(now), \(accounts), \(days), \(differences.count), \(first))
                """)
        }
    }

    /// The last reconciliation kept, by any process.
    public func lastReconciliation() async throws -> Reconciliation? {
        try await db.query("""
            SELECT ran_at, accounts, account_days, differences FROM ledger_reconciliations ORDER BY ran_at DESC, id DESC LIMIT 1
            """).first.map {
            Reconciliation(ranAt: try $0.date("ran_at"), accounts: try $0.int("accounts"), days: try $0.int("account_days"),
                           differences: try $0.int("differences"))
        }
    }

    /// Recomputes every daily row and every account's balance from the entries, and returns
    /// where the stored figures differ (nothing, when the ledger is right). Runs on a snapshot.
    public func reconcile() async throws -> (accounts: Int, days: Int, differences: [LedgerDifference]) {
        try await db.read { c in
            var differences: [LedgerDifference] = []
            var recomputed: [Int: [(day: Day, d: Int64, c: Int64)]] = [:]
            for r in try await c.query("""
                SELECT account_id, reference_date,
                       COALESCE(SUM(CASE WHEN side = 'D' THEN amount_cents END), 0) AS d,
                       COALESCE(SUM(CASE WHEN side = 'C' THEN amount_cents END), 0) AS c
                FROM ledger_entries GROUP BY account_id, reference_date ORDER BY account_id, reference_date
                """) {
                recomputed[try r.int("account_id"), default: []].append((try r.day("reference_date"), Int64(try r.int("d")), Int64(try r.int("c"))))
            }
            var stored: [Int: [DailyBalance]] = [:]
            for r in try await c.query("""
                SELECT account_id, day, debits_cents, credits_cents, running_debits_cents, running_credits_cents
                FROM ledger_balances ORDER BY account_id, day
                """) {
                stored[try r.int("account_id"), default: []].append(try Self.balance(r))
            }
            var balances: [Int: Int64] = [:]
            for r in try await c.query("SELECT id, balance_cents FROM ledger_accounts") {
                balances[try r.int("id")] = Int64(try r.int("balance_cents"))
            }
            var days = 0
            for account in Set(recomputed.keys).union(stored.keys).union(balances.keys).sorted() {
                let rows = Dictionary(uniqueKeysWithValues: (stored[account] ?? []).map { ($0.day, $0) })
                let sums = recomputed[account] ?? []
                var runningD: Int64 = 0, runningC: Int64 = 0
                for s in sums {
                    runningD += s.d
                    runningC += s.c
                    days += 1
                    let b = rows[s.day] ?? DailyBalance(day: s.day, debitsCents: 0, creditsCents: 0, runningDebitsCents: 0, runningCreditsCents: 0)
                    for (what, have, want) in [("debits", b.debitsCents, s.d), ("credits", b.creditsCents, s.c),
                                               ("running debits", b.runningDebitsCents, runningD),
                                               ("running credits", b.runningCreditsCents, runningC)] where have != want {
                        differences.append(LedgerDifference(accountID: account, day: s.day, what: what, stored: have, recomputed: want))
                    }
                }
                // A stored day without entries must carry the running totals of the day before.
                for b in stored[account] ?? [] where !sums.contains(where: { $0.day == b.day }) {
                    let before = sums.filter { $0.day < b.day }
                    let wantD = before.reduce(0) { $0 + $1.d }, wantC = before.reduce(0) { $0 + $1.c }
                    if b.debitsCents != 0 || b.creditsCents != 0 || b.runningDebitsCents != wantD || b.runningCreditsCents != wantC {
                        differences.append(LedgerDifference(accountID: account, day: b.day, what: "empty day", stored: b.balanceCents,
                                                            recomputed: wantC - wantD))
                    }
                }
                if let have = balances[account], have != runningC - runningD {
                    differences.append(LedgerDifference(accountID: account, day: nil, what: "balance", stored: have, recomputed: runningC - runningD))
                }
            }
            return (balances.count, days, differences)
        }
    }
}

import EsteiraCore
import Foundation

/// What the operators' console reads across clients: the overview's figures, batches, jobs,
/// notifications and the review queue of every client, filtered and paged. Clients never reach
/// these: they answer only behind an operator's session or key.
public struct ConsoleViews: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    // MARK: - Overview

    public struct Overview: Sendable {
        /// Batches not yet final, by status.
        public var batchesByStatus: [(status: BatchStatus, count: Int)]
        /// Jobs not done, by kind and state.
        public var jobs: [(kind: String, state: String, count: Int)]
        /// Rows that ended a sub-batch (registered, updated, withdrawn, duplicate or rejected)
        /// in the last 15 minutes.
        public var rowsLast15Minutes: Int
        public var notifications: [(state: String, count: Int)]
        public var lastReconciliation: LedgerStore.Reconciliation?
        public var lakeRunsThisMonth: [(status: String, count: Int)]
        public var lakeFilesLate: Int
    }

    public func overview(now: Date = Date()) async throws -> Overview {
        let open: [BatchStatus] = [.received, .processing, .stalled, .previewed]
        var byStatus: [(BatchStatus, Int)] = []
        for r in try await db.query("""
            SELECT status, COUNT(*) AS n FROM batches WHERE status IN (\(list: open.map(\.rawValue))) GROUP BY status ORDER BY status
            """) {
            byStatus.append((try r.known("status", as: BatchStatus.self), try r.int("n")))
        }
        let jobs = try await db.query("""
            SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state
            """).map { (try $0.string("kind"), try $0.string("state"), try $0.int("n")) }
        let rows = try await db.query("""
            SELECT COALESCE(SUM(registered + updated + withdrawn + duplicates + rejected), 0) AS n FROM sub_batches
            WHERE updated_at >= \(now.addingTimeInterval(-900)) AND status = 'registered'
            """)[0].int("n")
        let notifications = try await NotificationStore(db: db).countsByState(["pending", "dead"])
        let today = Day(now, in: Day.saoPaulo)
        let monthStart = Day(year: today.year, month: today.month, day: 1)!.start(in: Day.saoPaulo)
        let lake = try await db.query("""
            SELECT status, COUNT(*) AS n FROM lake_runs WHERE started_at >= \(monthStart) GROUP BY status ORDER BY status
            """).map { (try $0.string("status"), try $0.int("n")) }
        let late = try await db.query("""
            SELECT COUNT(DISTINCT batch_id) AS n FROM notifications
            WHERE client_id = \(NotificationEvent.agency) AND event = \(NotificationEvent.lakeFilesLate.rawValue) AND created_at >= \(monthStart)
            """)[0].int("n")
        return Overview(batchesByStatus: byStatus, jobs: jobs, rowsLast15Minutes: rows, notifications: notifications,
                        lastReconciliation: try await LedgerStore(db: db).lastReconciliation(),
                        lakeRunsThisMonth: lake, lakeFilesLate: late)
    }

    // MARK: - Batches

    public struct BatchFilter: Sendable {
        public var clientID: String?
        public var status: BatchStatus?
        public var source: String?
        public var from: Day?
        public var to: Day?

        public init(clientID: String? = nil, status: BatchStatus? = nil, source: String? = nil, from: Day? = nil, to: Day? = nil) {
            self.clientID = clientID
            self.status = status
            self.source = source
            self.from = from
            self.to = to
        }
    }

    /// Batches of every client, newest first, with their client's name.
    public func batches(_ f: BatchFilter, page: Int, perPage: Int) async throws -> Page<(batch: BatchRecord, client: String)> {
        var clause: SQL = "batches b JOIN clients c ON c.id = b.client_id WHERE 1 = 1"
        if let id = f.clientID, !id.isEmpty { clause = "\(clause) AND b.client_id = \(id)" }
        if let s = f.status { clause = "\(clause) AND b.status = \(s.rawValue)" }
        if let s = f.source, !s.isEmpty { clause = "\(clause) AND b.source = \(s)" }
        if let d = f.from { clause = "\(clause) AND b.received_on >= \(d)" }
        if let d = f.to { clause = "\(clause) AND b.received_on <= \(d)" }
        let columns = BatchStore.columns.split(separator: ",").map { "b." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ") + ", c.name AS client_name"
        return try await db.page(select: columns, from: clause, orderBy: "b.created_at DESC, b.id DESC", page: page, perPage: perPage) {
            (try BatchStore.record($0), try $0.string("client_name"))
        }
    }

    public struct SubBatchView: Sendable {
        public var seq: Int
        public var firstLine: Int
        public var records: Int
        public var status: String
        public var counts: BatchCounts
        public var updatedAt: Date
    }

    public func subBatches(batchID: String) async throws -> [SubBatchView] {
        try await db.query("""
            SELECT seq, first_line, records, status, registered, updated, withdrawn, duplicates, rejected, review, updated_at
            FROM sub_batches WHERE batch_id = \(batchID) ORDER BY seq
            """).map { r in
            SubBatchView(seq: try r.int("seq"), firstLine: try r.int("first_line"), records: try r.int("records"), status: try r.string("status"),
                         counts: BatchCounts(received: try r.int("records"), registered: try r.int("registered"), updated: try r.int("updated"),
                                             withdrawn: try r.int("withdrawn"), duplicates: try r.int("duplicates"),
                                             rejected: try r.int("rejected"), review: try r.int("review")),
                         updatedAt: try r.date("updated_at"))
        }
    }

    public struct JobView: Sendable {
        public var job: Job
        public var createdAt: Date
        public var updatedAt: Date
    }

    /// The batch's jobs, each step with its attempts, last error and times.
    public func jobs(batchID: String) async throws -> [JobView] {
        try await db.query("""
            SELECT \(raw: JobQueue.columns), created_at, updated_at FROM jobs WHERE batch_id = \(batchID) ORDER BY id
            """).map { JobView(job: try JobQueue.job($0), createdAt: try $0.date("created_at"), updatedAt: try $0.date("updated_at")) }
    }

    /// Jobs that need an operator: dead, or queued again after a failed attempt (retrying).
    public func troubledJobs(dead: Bool, kind: JobKind?, page: Int, perPage: Int) async throws -> Page<JobView> {
        var clause: SQL = dead ? "jobs WHERE state = 'dead'" : "jobs WHERE state IN ('queued', 'running') AND attempts > 0 AND last_error IS NOT NULL"
        if let kind { clause = "\(clause) AND kind = \(kind.rawValue)" }
        return try await db.page(select: JobQueue.columns + ", created_at, updated_at", from: clause, orderBy: "id DESC", page: page,
                                 perPage: perPage) {
            JobView(job: try JobQueue.job($0), createdAt: try $0.date("created_at"), updatedAt: try $0.date("updated_at"))
        }
    }

    /// The ids of the dead jobs of `kind` (all kinds when nil), at most `limit`.
    public func deadJobIDs(kind: JobKind?, limit: Int) async throws -> [Int] {
        let filter: SQL = kind.map { "AND kind = \($0.rawValue)" } ?? ""
        return try await db.query("SELECT id FROM jobs WHERE state = 'dead' \(filter) ORDER BY id LIMIT \(limit)").map { try $0.int("id") }
    }

    public struct RegisteredDebt: Sendable {
        public var externalID: String
        public var amountCents: Int64
        public var dueDate: Day
        public var status: String
    }

    /// The debts the batch registered (first registered by it), by line.
    public func debts(batchID: String, page: Int, perPage: Int) async throws -> Page<RegisteredDebt> {
        try await db.page(select: "external_id, amount_cents, due_date, status, line", from: "debts WHERE batch_id = \(batchID)",
                          orderBy: "line", page: page, perPage: perPage) {
            RegisteredDebt(externalID: try $0.string("external_id"), amountCents: Int64(try $0.int("amount_cents")),
                           dueDate: try $0.day("due_date"), status: try $0.string("status"))
        }
    }

    // MARK: - Clients

    public struct ClientMonth: Sendable {
        public var rows: Int
        public var rejected: Int
        public var review: Int
    }

    /// The client's rows received this month (batches received since its first day), and of
    /// those how many were rejected and flagged for review.
    public func clientMonth(clientID: String, today: Day) async throws -> ClientMonth {
        let first = Day(year: today.year, month: today.month, day: 1)!
        let r = try await db.query("""
            SELECT COALESCE(SUM(received), 0) AS rows_in, COALESCE(SUM(rejected), 0) AS rejected, COALESCE(SUM(review), 0) AS review
            FROM batches WHERE client_id = \(clientID) AND received_on >= \(first) AND dry_run = 0
            """)[0]
        return ClientMonth(rows: try r.int("rows_in"), rejected: try r.int("rejected"), review: try r.int("review"))
    }

    // MARK: - Blacklist

    public func blacklist(search: String, page: Int, perPage: Int) async throws -> Page<BlacklistEntry> {
        let key = search.filter { $0.isLetter || $0.isNumber }.uppercased()
        let clause: SQL = search.isEmpty ? "blacklist" : """
            blacklist WHERE (\(key) <> '' AND document LIKE '%' || \(key) || '%') OR lower(reason) LIKE lower('%' || \(search) || '%')
            """
        return try await db.page(select: "document, reason, operator_id, created_at, updated_at", from: clause,
                                 orderBy: "updated_at DESC, document", page: page, perPage: perPage, BlacklistStore.entry)
    }

    // MARK: - Reviews

    public struct ReviewItem: Sendable {
        public var clientID: String
        public var clientName: String
        public var externalID: String
        public var document: String
        public var amountCents: Int64
        public var dueDate: Day
        public var reasons: [RiskReason]
    }

    /// Debts waiting for a decision, across clients, oldest first; `rule` keeps those one rule flagged.
    public func reviewQueue(rule: String?, page: Int, perPage: Int) async throws -> Page<ReviewItem> {
        var clause: SQL = """
            debts d JOIN clients c ON c.num = d.client_num
            LEFT JOIN debt_reviews r ON r.client_num = d.client_num AND r.external_id = d.external_id
            WHERE d.status = 'review'
            """
        if let rule, !rule.isEmpty { clause = "\(clause) AND r.reasons LIKE '%\"' || \(rule) || '\"%'" }
        return try await db.page(select: "c.id AS client_id, c.name AS client_name, d.external_id, d.document, d.amount_cents, d.due_date, r.reasons",
                                 from: clause, orderBy: "d.created_at, d.client_num, d.external_id", page: page, perPage: perPage) { r in
            ReviewItem(clientID: try r.string("client_id"), clientName: try r.string("client_name"), externalID: try r.string("external_id"),
                       document: try r.string("document"), amountCents: Int64(try r.int("amount_cents")), dueDate: try r.day("due_date"),
                       reasons: (try? JSONDecoder().decode([RiskReason].self, from: Data((try r.optionalString("reasons") ?? "[]").utf8))) ?? [])
        }
    }

    // MARK: - Notifications

    /// Deliveries to clients and to the agency's targets in `state`, newest first, with their attempts.
    public func notifications(state: String, page: Int, perPage: Int) async throws -> Page<(NotificationRecord, clientID: String)> {
        let total = try await db.query("SELECT COUNT(*) AS n FROM notifications WHERE state = \(state)")[0].int("n")
        let store = NotificationStore(db: db)
        let ids = try await db.query("""
            SELECT id, client_id FROM notifications WHERE state = \(state) ORDER BY id DESC LIMIT \(perPage) OFFSET \(Page<Int>.offset(page: page, perPage: perPage))
            """).map { (try $0.int("id"), try $0.string("client_id")) }
        let owner = Dictionary(uniqueKeysWithValues: ids)
        let records = ids.isEmpty ? [] : try await store.records(where: "n.id IN (\(list: ids.map(\.0))) ORDER BY n.id DESC")
        return Page(items: records.map { ($0, owner[$0.id] ?? "") }, page: page, perPage: perPage, total: total)
    }

    /// Sends any notification again (delivered or given up), whoever it is for.
    public func redeliver(id: Int, by actor: AuditActor, now: Date = Date()) async throws -> Bool {
        try await db.write(durable: true) { c in
            guard let state = try await c.query("SELECT state FROM notifications WHERE id = \(id)").first?.string("state"), state != "pending",
                  try await c.execute("UPDATE notifications SET state = 'pending', next_at = \(now) WHERE id = \(id)") == 1 else { return false }
            try await AuditLog.record(c, actor, action: "notification.redeliver", target: "notification:\(id)",
                                      before: AuditLog.values(["state": state]), after: AuditLog.values(["state": "pending"]), now: now)
            return true
        }
    }
}

import EsteiraCore
import Foundation

/// A ledger request posted with `?async=true` and where it stands: `queued` (its job waits or
/// runs; `dead` when the job ran out of attempts: the dead letter, which operators see with
/// `esteira jobs list --state dead` and send again with `esteira jobs retry`), `posted` or
/// `rejected`.
public struct LedgerRequest: Sendable {
    public var id: String
    public var clientNum: Int
    public var clientID: String
    public var drafts: [LedgerEntryDraft]
    public var state: String
    /// The entries posted (`posted`), or the refusals (`rejected`), as JSON.
    public var result: String?
    public var createdAt: Date
    public var finishedAt: Date?
}

/// Asynchronous ledger requests: accepted with their job in one transaction, answered by the
/// `ledger` job, which records the result and the client's notification with the posting.
public struct LedgerRequests: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    /// Records the request and queues its job, in one transaction; returns its id.
    public func accept(clientNum: Int, clientID: String, drafts: [LedgerEntryDraft], traceID: String, maxAttempts: Int) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let entries = try Self.encode(drafts)
        let now = Date()
        try await db.write(durable: true) { c in
            try await c.execute("""
                INSERT INTO ledger_requests (id, client_num, client_id, entries, state, created_at)
                VALUES (\(id), \(clientNum), \(clientID), \(entries), 'queued', \(now))
                """)
            try await JobQueue.enqueue(c, .ledgerRequest(id: id), traceID: traceID, maxAttempts: maxAttempts)
        }
        return id
    }

    /// The client's request, its state read with its job's (a dead job makes it `dead`).
    public func get(clientNum: Int, id: String) async throws -> LedgerRequest? {
        guard let r = try await db.query("""
            SELECT r.id, r.client_num, r.client_id, r.entries, r.state, r.result, r.created_at, r.finished_at, j.state AS job_state
            FROM ledger_requests r LEFT JOIN jobs j ON j.kind = 'ledger' AND j.batch_id = r.id AND j.seq = 0
            WHERE r.id = \(id) AND r.client_num = \(clientNum)
            """).first else { return nil }
        // Read for the client even when its stored entries cannot be (its job then dies on them).
        var request = try Self.record(r, lenient: true)
        if request.state == "queued", try r.optionalString("job_state") == JobState.dead.rawValue { request.state = "dead" }
        return request
    }

    /// The request behind a job, for the worker.
    public static func load(_ c: any SQLConnection, id: String) async throws -> LedgerRequest? {
        try await c.query("""
            SELECT id, client_num, client_id, entries, state, result, created_at, finished_at FROM ledger_requests WHERE id = \(id)
            """).first.map(record)
    }

    /// Records the outcome in the caller's transaction.
    public static func finish(_ c: any SQLConnection, id: String, state: String, result: String, now: Date = Date()) async throws {
        try await c.execute("""
            UPDATE ledger_requests SET state = \(state), result = \(result), finished_at = \(now) WHERE id = \(id)
            """)
    }

    static func record(_ r: SQLRow) throws -> LedgerRequest { try record(r, lenient: false) }

    static func record(_ r: SQLRow, lenient: Bool) throws -> LedgerRequest {
        let entries = try r.string("entries")
        return LedgerRequest(id: try r.string("id"), clientNum: try r.int("client_num"), clientID: try r.string("client_id"),
                      drafts: lenient ? ((try? decode(entries)) ?? []) : try decode(entries), state: try r.string("state"), result: try r.optionalString("result"),
                      createdAt: try r.date("created_at"), finishedAt: try r.optionalDate("finished_at"))
    }

    static func encode(_ drafts: [LedgerEntryDraft]) throws -> String {
        let list: [[String: Any]] = drafts.map {
            ["branch": $0.branch, "account": $0.account, "amount_cents": $0.amountCents, "side": $0.side.rawValue, "event_code": $0.eventCode,
             "description": $0.description, "trace_key": $0.traceKey, "details": $0.details ?? NSNull(), "reference_date": $0.referenceDate.iso]
        }
        return try JSONText.encode(list)
    }

    static func decode(_ text: String) throws -> [LedgerEntryDraft] {
        guard let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw StoreError.notFound("ledger request entries")
        }
        return try list.map { o in
            guard let side = LedgerSide(rawValue: o["side"] as? String ?? ""), let day = Day.parseISO(o["reference_date"] as? String ?? ""),
                  let cents = (o["amount_cents"] as? NSNumber).map({ $0.int64Value }) else {
                throw StoreError.notFound("a readable ledger request entry")
            }
            return LedgerEntryDraft(branch: o["branch"] as? String ?? "", account: o["account"] as? String ?? "", amountCents: cents, side: side,
                                    eventCode: o["event_code"] as? String ?? "", description: o["description"] as? String ?? "",
                                    traceKey: o["trace_key"] as? String ?? "", details: o["details"] as? String, referenceDate: day)
        }
    }

    /// The entries of a posting as JSON, for the request's result and its notification.
    public static func json(_ entries: [PostedEntry]) -> [[String: Any]] {
        entries.map {
            ["id": $0.id, "branch": $0.branch, "account": $0.account, "amount": Money.decimalString(cents: $0.amountCents),
             "amount_cents": $0.amountCents, "side": $0.side.rawValue, "event_code": $0.eventCode, "trace_key": $0.traceKey,
             "reference_date": $0.referenceDate.iso, "balance_after": Money.decimalString(cents: $0.balanceAfterCents)]
        }
    }

    /// The refusals as JSON.
    public static func json(_ issues: [LedgerIssue]) -> [[String: Any]] {
        issues.map { ["index": $0.index, "field": $0.field, "code": $0.rule.rawValue, "message": $0.message] }
    }
}

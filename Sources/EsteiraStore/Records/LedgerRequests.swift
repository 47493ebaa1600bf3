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
                      drafts: lenient ? ((try? decode(entries)) ?? []) : try decode(entries, request: try r.string("id")), state: try r.string("state"), result: try r.optionalString("result"),
                      createdAt: try r.date("created_at"), finishedAt: try r.optionalDate("finished_at"))
    }

    static func encode(_ drafts: [LedgerEntryDraft]) throws -> String {
        try JSONText.encoded(drafts.map(StoredDraft.init))
    }

    /// The stored entries; a list that does not read, or a side or day the code does not know, is
    /// an error naming the request.
    static func decode(_ text: String, request id: String = "") throws -> [LedgerEntryDraft] {
        let stored: [StoredDraft]
        do {
            stored = try JSONDecoder().decode([StoredDraft].self, from: Data(text.utf8))
        } catch {
            throw SQLError(code: .decode, message: "ledger_requests.entries of request \(id) is not a list of entries: \(error)", sql: "")
        }
        return try stored.map { d in
            guard let side = LedgerSide(rawValue: d.side) else {
                throw SQLError(code: .decode, message: "ledger_requests.entries of request \(id): unknown side \(d.side)", sql: "")
            }
            guard let day = Day.parseISO(d.referenceDate) else {
                throw SQLError(code: .decode, message: "ledger_requests.entries of request \(id): reference_date \(d.referenceDate) is not a day", sql: "")
            }
            return LedgerEntryDraft(branch: d.branch, account: d.account, amountCents: d.amountCents, side: side, eventCode: d.eventCode,
                                    description: d.description, traceKey: d.traceKey, details: d.details, referenceDate: day)
        }
    }
}

/// An entry as a queued ledger request keeps it until its job posts it. `details` is the client's
/// JSON, canonical, kept as text.
struct StoredDraft: Codable {
    var branch: String
    var account: String
    var amountCents: Int64
    var side: String
    var eventCode: String
    var description: String
    var traceKey: String
    @Nullable var details: String?
    var referenceDate: String

    enum CodingKeys: String, CodingKey {
        case branch, account, amountCents = "amount_cents", side, eventCode = "event_code", description, traceKey = "trace_key", details
        case referenceDate = "reference_date"
    }

    init(_ d: LedgerEntryDraft) {
        branch = d.branch
        account = d.account
        amountCents = d.amountCents
        side = d.side.rawValue
        eventCode = d.eventCode
        description = d.description
        traceKey = d.traceKey
        details = d.details
        referenceDate = d.referenceDate.iso
    }
}

/// How a ledger request ended, as its result is stored and read back: the entries posted, or the
/// refusals. One of the two keys is there.
public struct LedgerRequestOutcome: Codable, Sendable, Equatable {
    public var entries: [Entry]?
    public var issues: [Issue]?

    public static func posted(_ entries: [PostedEntry]) -> LedgerRequestOutcome {
        LedgerRequestOutcome(entries: entries.map(Entry.init))
    }

    public static func rejected(_ issues: [LedgerIssue]) -> LedgerRequestOutcome {
        LedgerRequestOutcome(issues: issues.map { Issue(index: $0.index, field: $0.field, code: $0.rule.rawValue, message: $0.message) })
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var id: Int
        public var branch: String
        public var account: String
        public var amount: String
        public var amountCents: Int64
        public var side: String
        public var eventCode: String
        public var traceKey: String
        public var referenceDate: String
        public var balanceAfter: String

        enum CodingKeys: String, CodingKey {
            case id, branch, account, amount, amountCents = "amount_cents", side, eventCode = "event_code", traceKey = "trace_key"
            case referenceDate = "reference_date", balanceAfter = "balance_after"
        }

        init(_ e: PostedEntry) {
            id = e.id
            branch = e.branch
            account = e.account
            amount = Money.decimalString(cents: e.amountCents)
            amountCents = e.amountCents
            side = e.side.rawValue
            eventCode = e.eventCode
            traceKey = e.traceKey
            referenceDate = e.referenceDate.iso
            balanceAfter = Money.decimalString(cents: e.balanceAfterCents)
        }
    }

    public struct Issue: Codable, Sendable, Equatable {
        public var index: Int
        public var field: String
        public var code: String
        public var message: String
    }
}

/// The client's webhook when a ledger request ends (`ledger.posted`, `ledger.rejected`):
/// `{"event": …, "request": {"id", "state", and "entries" or "issues"}}`.
public struct LedgerRequestEvent: Encodable, Sendable {
    public var event: String
    public var request: Request

    public struct Request: Encodable, Sendable {
        public var id: String
        public var state: String
        public var outcome: LedgerRequestOutcome

        enum CodingKeys: String, CodingKey { case id, state }

        public func encode(to encoder: any Encoder) throws {
            try outcome.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(state, forKey: .state)
        }
    }

    public init(event: String, id: String, state: String, outcome: LedgerRequestOutcome) {
        self.event = event
        request = Request(id: id, state: state, outcome: outcome)
    }
}

import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/ledger`: the client's cash ledger (docs/ledger.md). Entries are posted all or nothing,
/// each refusal named by entry, field and code; balances and statements are read per account.
struct LedgerRoutes {
    /// One for the process: concurrent small requests share a transaction (group commit), and the
    /// store remembers account ids.
    let committer: LedgerCommitter
    var store: LedgerStore { committer.store }
    /// How many days back an entry may be dated.
    let windowDays: Int

    let requests: LedgerRequests
    /// Attempts of an asynchronous request's job before it is a dead letter.
    let retry: RetryPolicy
    /// Wakes this process's workers after an asynchronous request is queued.
    let jobsReady: @Sendable () async -> Void

    init(db: any SQLDatabase, windowDays: Int, retry: RetryPolicy = RetryPolicy(), jobsReady: @escaping @Sendable () async -> Void = {}) {
        committer = LedgerCommitter(store: LedgerStore(db: db))
        requests = LedgerRequests(db: db)
        self.windowDays = windowDays
        self.retry = retry
        self.jobsReady = jobsReady
    }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("ledger/entries", use: post)
        group.get("ledger/entries", use: byTraceKey)
        group.get("ledger/requests/:id", use: request)
        group.get("ledger/accounts/:branch/:account/balances", use: balances)
        group.get("ledger/accounts/:branch/:account/statement", use: statement)
    }

    /// The operators' side: the catalog of events.
    func addAdmin(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("ledger/events", use: events)
        group.put("ledger/events/:code", use: putEvent)
    }

    // MARK: - JSON

    struct EntryJSON: Encodable {
        var id: Int
        var branch: String
        var account: String
        var amount: String
        var amountCents: Int64
        var side: String
        var eventCode: String
        var description: String
        var traceKey: String
        var details: RawJSON?
        var referenceDate: String
        var createdAt: String
        var balanceAfter: String?
        var balanceBefore: String?

        enum CodingKeys: String, CodingKey {
            case id, branch, account, amount, amountCents = "amount_cents", side, eventCode = "event_code", description,
                 traceKey = "trace_key", details, referenceDate = "reference_date", createdAt = "created_at",
                 balanceAfter = "balance_after", balanceBefore = "balance_before"
        }

        init(_ e: PostedEntry, before: Int64? = nil, after: Int64?) {
            id = e.id
            branch = e.branch
            account = e.account
            amount = Money.decimalString(cents: e.amountCents)
            amountCents = e.amountCents
            side = e.side.rawValue
            eventCode = e.eventCode
            description = e.description
            traceKey = e.traceKey
            details = e.details.map(RawJSON.init)
            referenceDate = e.referenceDate.iso
            createdAt = Timestamp.iso(e.createdAt)
            balanceAfter = after.map { Money.decimalString(cents: $0) }
            balanceBefore = before.map { Money.decimalString(cents: $0) }
        }
    }

    /// JSON text written as it is (the entry's details, kept canonical).
    struct RawJSON: Encodable {
        let text: String
        func encode(to encoder: any Encoder) throws {
            let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            var c = encoder.singleValueContainer()
            try c.encode(AnyJSON(value))
        }
    }

    struct PostingJSON: ResponseEncodable {
        var replayed: Bool
        var entries: [EntryJSON]
    }

    // MARK: - Posting

    /// One entry (an object) or `{"entries": [...]}` of up to 1,000: 201 with each entry, its id
    /// and the account's balance after it; 200 with the first result when every entry is a
    /// re-send; 422 with every refusal (`issues`: index, field, code, message).
    @Sendable func post(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await request.body.collect(upTo: 4 << 20)
        guard let json = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw APIError(.badRequest, code: "invalid_json", message: #"O corpo deve ser um lançamento em JSON ou {"entries": [...]}."#)
        }
        let objects: [Any] = json["entries"].map { ($0 as? [Any]) ?? [] } ?? [json]
        guard !objects.isEmpty, objects.count <= LedgerRules.maxEntriesPerRequest else {
            throw APIError(.unprocessableContent, code: "invalid_entries",
                           message: "Envie de 1 a \(LedgerRules.maxEntriesPerRequest) lançamentos por pedido.", field: "entries")
        }
        let inputs = objects.map(Self.input)
        let rules = LedgerRules(events: try await store.eventsByCode(), today: Day(Date(), in: Day.saoPaulo), windowDays: windowDays)
        let async = request.uri.queryParameters["async"].map { $0 == "true" || $0 == "1" } ?? false
        let posting: LedgerPosting
        do {
            switch rules.check(inputs) {
            case .failure(let rejection): throw rejection
            case .success(let drafts):
                if async {
                    let id = try await requests.accept(clientNum: client.num, clientID: client.id, drafts: drafts,
                                                       traceID: BatchRecord.newTraceID(), maxAttempts: retry.maxAttempts)
                    await jobsReady()
                    var response = try AcceptedJSON(id: id, state: "queued", traceKeys: drafts.map(\.traceKey))
                        .response(from: request, context: context)
                    response.status = .accepted
                    response.headers[.location] = "/v1/ledger/requests/\(id)"
                    return response
                }
                posting = try await committer.post(clientNum: client.num, drafts)
            }
        } catch let rejection as LedgerRejection {
            throw APIError(.unprocessableContent, code: "ledger_rejected",
                           message: rejection.issues.count == 1 ? rejection.issues[0].message
                               : "\(rejection.issues.count) problemas; nada foi lançado. Veja issues.",
                           field: rejection.issues.count == 1 ? rejection.issues[0].field : nil,
                           issues: rejection.issues.map { .init(index: $0.index, field: $0.field, code: $0.rule.rawValue, message: $0.message) })
        }
        var response = try PostingJSON(replayed: posting.replayed, entries: posting.entries.map { EntryJSON($0, after: $0.balanceAfterCents) })
            .response(from: request, context: context)
        response.status = posting.replayed ? .ok : .created
        return response
    }

    struct AcceptedJSON: ResponseEncodable {
        var id: String
        var state: String
        var traceKeys: [String]
        enum CodingKeys: String, CodingKey { case id, state, traceKeys = "trace_keys" }
    }

    /// An asynchronous request: `state` (queued, posted, rejected, dead) and, once answered, the
    /// entries posted or the refusals, as its notification carried them.
    @Sendable func request(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        guard let r = try await requests.get(clientNum: client.num, id: context.parameters.get("id") ?? "") else {
            throw APIError.notFound("Pedido")
        }
        var body: [String: Any] = ["id": r.id, "state": r.state, "created_at": Timestamp.iso(r.createdAt),
                                   "finished_at": r.finishedAt.map(Timestamp.iso) ?? NSNull(), "trace_keys": r.drafts.map(\.traceKey)]
        if let result = r.result, let object = try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any] {
            body.merge(object) { $1 }
        }
        return try Response.json(body)
    }

    /// The JSON object of one entry, as the rules read it: missing or mistyped fields become
    /// values the rules refuse, each with its own field and code.
    static func input(_ any: Any) -> LedgerEntryInput {
        let o = any as? [String: Any] ?? [:]
        func text(_ key: String) -> String { o[key] as? String ?? "" }
        var amount: String?
        var cents: Int64?
        if let s = o["amount"] as? String {
            amount = s
        } else if let n = o["amount"] as? NSNumber, !AnyJSON.isBoolean(n) {
            // A JSON number, as its shortest decimal text: 10.5 → "10.5".
            amount = "\(n)"
        } else if let n = o["amount_cents"] as? NSNumber, !AnyJSON.isBoolean(n), let whole = Int64(exactly: n) {
            cents = whole
        } else if o["amount_cents"] != nil {
            amount = "\(o["amount_cents"]!)"
        } else if let n = o["amount_cents"] as? Int {
            cents = Int64(n)
        }
        var details: String?
        var detailsValid = true
        if let d = o["details"], !(d is NSNull) {
            if d is [String: Any], let text = try? JSONText.encode(d) {
                details = text
            } else {
                detailsValid = false
            }
        }
        return LedgerEntryInput(branch: text("branch"), account: text("account"), amount: amount, amountCents: cents, side: text("side"),
                                eventCode: text("event_code"), description: text("description"), traceKey: text("trace_key"),
                                details: details, detailsValid: detailsValid, referenceDate: text("reference_date"))
    }

    @Sendable func byTraceKey(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<EntryJSON> {
        let client = try context.requireClient()
        guard let key = request.uri.queryParameters["trace_key"].map(String.init), !key.isEmpty else {
            throw APIError.invalidParameter("trace_key", "informe a chave de rastreio")
        }
        return ItemsResponse(items: try await store.entries(clientNum: client.num, traceKey: key).map { EntryJSON($0, after: $0.balanceAfterCents) })
    }

    // MARK: - Reading an account

    /// The client's account from the path, or 404 (another client's account included).
    func account(_ context: EsteiraRequestContext) async throws -> Int {
        let client = try context.requireClient()
        let branch = context.parameters.get("branch").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let account = context.parameters.get("account").map { $0.removingPercentEncoding ?? $0 } ?? ""
        guard let id = try await store.accountID(clientNum: client.num, branch: branch, account: account) else {
            throw APIError.notFound("Conta")
        }
        return id
    }

    /// `from` and `to` (AAAA-MM-DD): by default the last 30 days; at most 366 days.
    static func range(_ request: Request) throws -> (Day, Day) {
        let today = Day(Date(), in: Day.saoPaulo)
        func day(_ name: String, _ fallback: Day) throws -> Day {
            guard let raw = request.uri.queryParameters[Substring(name)].map(String.init), !raw.isEmpty else { return fallback }
            guard let d = Day.parseISO(raw) else { throw APIError.invalidParameter(name, "use AAAA-MM-DD") }
            return d
        }
        let to = try day("to", today)
        let from = try day("from", to.adding(days: -29))
        guard from <= to, to.daysSinceEpoch - from.daysSinceEpoch < 366 else {
            throw APIError.invalidParameter("from", "o período vai de from a to, com até 366 dias")
        }
        return (from, to)
    }

    struct DayJSON: Encodable {
        var day: String
        var debits: String
        var credits: String
        var runningDebits: String
        var runningCredits: String
        var balance: String
        enum CodingKeys: String, CodingKey {
            case day, debits, credits, runningDebits = "running_debits", runningCredits = "running_credits", balance
        }
    }

    @Sendable func balances(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<DayJSON> {
        let id = try await account(context)
        let (from, to) = try Self.range(request)
        return ItemsResponse(items: try await store.balances(accountID: id, from: from, to: to).map {
            DayJSON(day: $0.day.iso, debits: Money.decimalString(cents: $0.debitsCents), credits: Money.decimalString(cents: $0.creditsCents),
                    runningDebits: Money.decimalString(cents: $0.runningDebitsCents),
                    runningCredits: Money.decimalString(cents: $0.runningCreditsCents), balance: Money.decimalString(cents: $0.balanceCents))
        })
    }

    struct StatementJSON: ResponseEncodable {
        var items: [EntryJSON]
        var page: Int
        var hasMore: Bool
        enum CodingKeys: String, CodingKey { case items, page, hasMore = "has_more" }
    }

    @Sendable func statement(_ request: Request, context: EsteiraRequestContext) async throws -> StatementJSON {
        let id = try await account(context)
        let (from, to) = try Self.range(request)
        let paging = try Paging(request)
        let (lines, hasMore) = try await store.statement(accountID: id, from: from, to: to, page: paging.page, perPage: paging.perPage)
        return StatementJSON(items: lines.map { EntryJSON($0.entry, before: $0.balanceBeforeCents, after: $0.balanceAfterCents) },
                             page: paging.page, hasMore: hasMore)
    }

    // MARK: - Events (operators)

    struct EventJSON: Codable, ResponseEncodable {
        var code: String?
        var description: String
        var active: Bool
        var allowsDebit: Bool
        var allowsCredit: Bool
        enum CodingKeys: String, CodingKey { case code, description, active, allowsDebit = "allows_debit", allowsCredit = "allows_credit" }
    }

    @Sendable func events(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<EventJSON> {
        ItemsResponse(items: try await store.events().map {
            EventJSON(code: $0.code, description: $0.description, active: $0.active, allowsDebit: $0.allowsDebit, allowsCredit: $0.allowsCredit)
        })
    }

    /// Creates or changes an event: `{"description", "active", "allows_debit", "allows_credit"}`.
    @Sendable func putEvent(_ request: Request, context: EsteiraRequestContext) async throws -> EventJSON {
        let code = (context.parameters.get("code") ?? "").uppercased()
        guard LedgerEvent.isValidCode(code) else {
            throw APIError(.unprocessableContent, code: "invalid_event_code", message: "O código tem de 1 a 40 letras, dígitos, _ ou -.", field: "code")
        }
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard var e = try? JSONDecoder().decode(EventJSON.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: #"O corpo deve ser {"description": "...", "active": true, "allows_debit": true, "allows_credit": true}."#)
        }
        guard (1...200).contains(e.description.count) else {
            throw APIError(.unprocessableContent, code: "invalid_description", message: "A descrição tem de 1 a 200 caracteres.", field: "description")
        }
        e.code = code
        try await store.saveEvent(LedgerEvent(code: code, description: e.description, active: e.active, allowsDebit: e.allowsDebit,
                                              allowsCredit: e.allowsCredit))
        return e
    }
}

/// Any JSON value from JSONSerialization, written back by an Encoder.
struct AnyJSON: Encodable {
    let value: Any
    init(_ value: Any) { self.value = value }

    /// JSONSerialization reads `true` and `false` as numbers of C type `char`.
    static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch value {
        case is NSNull: try c.encodeNil()
        case let n as NSNumber where Self.isBoolean(n): try c.encode(n.boolValue)
        case let n as NSNumber:
            if let i = Int64(exactly: n) { try c.encode(i) } else { try c.encode(n.doubleValue) }
        case let s as String: try c.encode(s)
        case let a as [Any]: try c.encode(a.map(AnyJSON.init))
        case let o as [String: Any]: try c.encode(o.mapValues(AnyJSON.init))
        default: try c.encodeNil()
        }
    }
}

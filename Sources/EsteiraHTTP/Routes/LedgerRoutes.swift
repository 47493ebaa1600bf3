import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Hummingbird
import Metrics

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
        let body = try await request.body.collect(atMost: 4 << 20)
        guard let json = try? JSONValue.parse(body.readableBytesView), json.members != nil else {
            throw APIError(.badRequest, code: "invalid_json", message: #"O corpo deve ser um lançamento em JSON ou {"entries": [...]}."#)
        }
        let objects: [JSONValue] = json["entries"].map { $0.elements ?? [] } ?? [json]
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
            Counter(label: MetricName.ledgerPostings, dimensions: [("result", "rejected")]).increment()
            throw APIError(.unprocessableContent, code: "ledger_rejected",
                           message: rejection.issues.count == 1 ? rejection.issues[0].message
                               : "\(rejection.issues.count) problemas; nada foi lançado. Veja issues.",
                           field: rejection.issues.count == 1 ? rejection.issues[0].field : nil,
                           issues: rejection.issues.map { .init(index: $0.index, field: $0.field, code: $0.rule.rawValue, message: $0.message) })
        }
        if !posting.replayed { Counter(label: MetricName.ledgerPostings, dimensions: [("result", "posted")]).increment() }
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
        var members: [JSONValue.Member] = [
            .init(key: "id", value: .string(r.id)), .init(key: "state", value: .string(r.state)),
            .init(key: "created_at", value: .string(Timestamp.iso(r.createdAt))),
            .init(key: "finished_at", value: r.finishedAt.map { .string(Timestamp.iso($0)) } ?? .null),
            .init(key: "trace_keys", value: .array(r.drafts.map { .string($0.traceKey) })),
        ]
        if let result = r.result, let stored = (try? JSONValue.parse(Array(result.utf8)))?.members {
            members = members.filter { m in !stored.contains { $0.key == m.key } } + stored
        }
        return Response.json(.object(members))
    }

    /// The JSON object of one entry, as the rules read it: missing or mistyped fields become
    /// values the rules refuse, each with its own field and code.
    static func input(_ value: JSONValue) -> LedgerEntryInput {
        func text(_ key: String) -> String { value[key]?.string ?? "" }
        var amount: String?
        var cents: Int64?
        switch (value["amount"], value["amount_cents"]) {
        case (.string(let s)?, _): amount = s
        // A JSON number, as its literal: 10.5 → "10.5", never through a floating-point value.
        case (.number(let literal)?, _): amount = literal
        // amount_cents is a whole JSON number; anything else is refused by the rules with what it was.
        case (_, .number(let literal)?):
            if let whole = Int64(literal) { cents = whole } else { amount = "amount_cents \(literal)" }
        case (_, let other?): amount = "amount_cents \(other.canonicalText)"
        default: break
        }
        var details: String?
        var detailsValid = true
        switch value["details"] {
        case nil, .null?: break
        case .object(let members)?: details = JSONValue.object(members).canonicalText
        default: detailsValid = false
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
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard var e = try? JSONDecoder().decode(EventJSON.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: #"O corpo deve ser {"description": "...", "active": true, "allows_debit": true, "allows_credit": true}."#)
        }
        guard (1...200).contains(e.description.count) else {
            throw APIError(.unprocessableContent, code: "invalid_description", message: "A descrição tem de 1 a 200 caracteres.", field: "description")
        }
        e.code = code
        try await store.saveEvent(LedgerEvent(code: code, description: e.description, active: e.active, allowsDebit: e.allowsDebit,
                                              allowsCredit: e.allowsCredit), by: context.operatorRecord.map(AuditActor.api))
        return e
    }
}

import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// Every list answers `{"items": [...], "page", "per_page", "total"}`.
struct ListResponse<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
    var page: Int
    var perPage: Int
    var total: Int

    enum CodingKeys: String, CodingKey {
        case items, page, total
        case perPage = "per_page"
    }

    init<T>(_ page: Page<T>, _ transform: (T) -> Item) {
        items = page.items.map(transform)
        self.page = page.page
        perPage = page.perPage
        total = page.total
    }
}

struct BatchResponse: ResponseEncodable, Sendable {
    var id: String
    var status: String
    var source: String
    @Nullable var fileName: String?
    var counts: BatchCounts
    var subBatches: Int
    @Nullable var error: String?
    @Nullable var errorCode: String?
    var traceID: String
    var createdAt: String
    @Nullable var finishedAt: String?
    /// A preview first (`?dry_run=true`).
    var dryRun: Bool
    /// The client's whole open portfolio (`?portfolio=full`, or its format's setting).
    var fullPortfolio: Bool
    /// While `stalled`: the step that stopped and why, in Portuguese.
    @Nullable var stalled: BatchStall?

    enum CodingKeys: String, CodingKey {
        case id, status, source, counts, error, stalled
        case dryRun = "dry_run"
        case fullPortfolio = "full_portfolio"
        case fileName = "file_name"
        case subBatches = "sub_batches"
        case errorCode = "error_code"
        case traceID = "trace_id"
        case createdAt = "created_at"
        case finishedAt = "finished_at"
    }

    init(_ b: BatchRecord) {
        id = b.id
        status = b.status.rawValue
        source = b.source
        fileName = b.fileName
        counts = b.counts
        subBatches = b.subBatches
        error = b.error
        errorCode = b.errorCode
        traceID = b.traceID
        createdAt = Timestamp.isoSeconds(b.createdAt)
        finishedAt = b.finishedAt.map(Timestamp.isoSeconds)
        dryRun = b.dryRun
        fullPortfolio = b.fullPortfolio
        stalled = b.stall
    }
}

struct DebtResponse: ResponseEncodable, Sendable {
    var externalID: String
    var name: String
    var document: String
    var documentKind: String
    @Nullable var email: String?
    @Nullable var phone: String?
    @Nullable var description: String?
    var amount: String
    var amountCents: Int64
    /// Paid so far (reversed payments not counted).
    var paid: String
    var paidCents: Int64
    var dueDate: String
    var batchID: String
    var line: Int
    var status: String
    var createdAt: String
    /// Why the risk rules flagged it for review (status `review`), or null.
    @Nullable var review: Review?

    struct Review: Codable, Sendable, Equatable {
        var score: Int
        var reasons: [RiskReasonJSON]
    }

    enum CodingKeys: String, CodingKey {
        case name, document, email, phone, description, amount, status, line, review
        case externalID = "external_id"
        case documentKind = "document_kind"
        case amountCents = "amount_cents"
        case paid
        case paidCents = "paid_cents"
        case dueDate = "due_date"
        case batchID = "batch_id"
        case createdAt = "created_at"
    }

    init(_ r: DebtRecord) {
        externalID = r.debt.externalID
        name = r.debt.name
        document = r.debt.document.value
        documentKind = r.debt.document.kind.rawValue
        email = r.debt.email
        phone = r.debt.phone
        description = r.debt.description
        amount = Money.decimalString(cents: r.debt.amountCents)
        amountCents = r.debt.amountCents
        paid = Money.decimalString(cents: r.paidCents)
        paidCents = r.paidCents
        dueDate = r.debt.dueDate.iso
        batchID = r.batchID
        line = r.line
        status = r.status
        createdAt = Timestamp.isoSeconds(r.createdAt)
        review = r.review.map { review in
            Review(score: review.score, reasons: review.reasons.map(RiskReasonJSON.init))
        }
    }
}

/// A risk rule that fired, as the API shows it (a debt's review, a decision's reasons).
struct RiskReasonJSON: Codable, Sendable, Equatable {
    var code: String
    var outcome: String
    var points: Int
    var message: String

    init(_ r: RiskReason) {
        code = r.rule.rawValue
        outcome = r.outcome.rawValue
        points = r.points
        message = r.message
    }
}

/// A batch that settled while its upload waited (`?wait=N`): the batch as `GET /v1/batches/{id}`
/// shows it, with its first rejects and how many there are in all (the rest: its rejects' pages).
struct SettledBatchResponse: ResponseEncodable, Sendable {
    static let firstRejects = 100

    var batch: BatchResponse
    var rejects: [RejectResponse]
    var rejectsTotal: Int

    enum CodingKeys: String, CodingKey {
        case rejects
        case rejectsTotal = "rejects_total"
    }

    init(_ b: BatchRecord, registry: DebtRegistry) async throws {
        batch = BatchResponse(b)
        let page = try await registry.rejects(batchID: b.id, page: 1, perPage: Self.firstRejects)
        rejects = page.items.map(RejectResponse.init)
        rejectsTotal = page.total
    }

    /// The batch's own keys, then the rejects beside them in the same object.
    func encode(to encoder: any Encoder) throws {
        try batch.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rejects, forKey: .rejects)
        try c.encode(rejectsTotal, forKey: .rejectsTotal)
    }
}

struct RejectResponse: Codable, Sendable {
    var line: Int
    var field: String
    var code: String
    var message: String
    var raw: String

    init(_ r: RejectRecord) {
        line = r.line
        field = r.field
        code = r.code
        message = r.message
        raw = r.raw
    }
}

extension Response {
    /// `value` as JSON (`APIJSON`) with `status`, and its `Location` when it made something.
    static func json(_ status: HTTPResponse.Status, _ value: some Encodable, location: String? = nil) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let location { headers[.location] = location }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try APIJSON.encode(value))))
    }

    /// 200 with a JSON value exactly as built: numbers as their literals, keys sorted.
    static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: value.canonicalText)))
    }
}

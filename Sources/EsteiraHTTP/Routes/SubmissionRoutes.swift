import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/submissions`: debts sent as JSON in several calls, then submitted as one batch.
///
/// `POST /v1/submissions` opens one; `POST /v1/submissions/{id}/debts` adds up to 10,000 debts a
/// call, each checked for shape at once (an object of known fields with text values), all or none;
/// `POST /v1/submissions/{id}/submit` writes them, in the order received, as one standard CSV file
/// and starts its batch like an upload. A submission not submitted in time expires.
struct SubmissionRoutes {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let retry: RetryPolicy
    let ttl: TimeInterval
    let jobsReady: @Sendable () async -> Void

    static let maxPerCall = 10_000
    static let maxLines = 1_000_000
    /// 10,000 debts of a few hundred bytes each, with room to spare.
    static let maxBodyBytes = 32 * 1024 * 1024
    /// The columns of the file a submission becomes, in the standard format.
    static let header = DebtField.allCases.map(\.rawValue)

    var store: SubmissionStore { SubmissionStore(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("submissions", use: open)
        group.get("submissions/:id", use: get)
        group.post("submissions/:id/debts", use: addDebts)
        group.post("submissions/:id/submit", use: submit)
    }

    @Sendable func open(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let record = try await store.open(clientID: client.id, ttl: ttl)
        var response = try SubmissionResponse(record).response(from: request, context: context)
        response.status = .created
        response.headers[.location] = "/v1/submissions/\(record.id)"
        return response
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> SubmissionResponse {
        let client = try context.requireClient()
        guard let record = try await store.get(id: context.parameters.get("id") ?? "", clientID: client.id) else {
            throw APIError.notFound("Submissão")
        }
        return SubmissionResponse(record)
    }

    @Sendable func addDebts(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let id = context.parameters.get("id") ?? ""
        let body = try await request.body.collect(atMost: Self.maxBodyBytes, hint: "Envie no máximo 10.000 dívidas por chamada.")
        let items = try SingleDebtJSON.items(Array(body.readableBytesView))
        guard !items.isEmpty else {
            throw APIError(.unprocessableContent, code: "empty", message: "A lista de dívidas está vazia.")
        }
        guard items.count <= Self.maxPerCall else {
            throw APIError(.contentTooLarge, code: "too_many", message: "No máximo 10.000 dívidas por chamada; vieram \(items.count).")
        }
        var problems: [ItemProblemJSON] = []
        var lines: [String] = []
        lines.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch item {
            case .success(let values): lines.append(Self.csvLine(values))
            case .failure(let p): problems.append(ItemProblemJSON(index: index, field: p.key, code: p.code, message: p.message))
            }
        }
        guard problems.isEmpty else {
            return try Response.json(.unprocessableContent, ItemProblemsAnswer(error: ItemProblemsJSON(
                code: "invalid_items",
                message: "\(problems.count) de \(items.count) itens não têm a forma de uma dívida; nenhum foi adicionado.",
                items: problems)), location: nil)
        }
        let total: Int
        do {
            total = try await store.append(id: id, clientID: client.id, lines: lines, maxLines: Self.maxLines)
        } catch let error as SubmissionStore.AppendError {
            throw Self.apiError(error)
        }
        return try Response.json(.ok, AddedAnswer(added: lines.count, lines: total), location: nil)
    }

    /// Writes the submission as one CSV file (header, then the lines in order) and starts its
    /// batch; the submission is marked submitted in the same transaction as the batch's creation.
    @Sendable func submit(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let id = context.parameters.get("id") ?? ""
        guard let record = try await store.get(id: id, clientID: client.id) else { throw APIError.notFound("Submissão") }
        guard record.status == .open else { throw Self.apiError(.notOpen(record.status)) }
        guard record.lines > 0 else {
            throw APIError(.unprocessableContent, code: "empty", message: "A submissão não tem dívidas.")
        }
        let now = Date()
        let arrival = Intake.Arrival(client: client, source: "api_lines", fileName: "submissao-\(id).csv", receivedAt: now)
        let batchID = arrival.batchID
        let batch: BatchRecord
        do {
            batch = try await Intake(db: db, blobs: blobs, retry: retry, jobsReady: jobsReady).receive(arrival, alongside: { c in
                try await SubmissionStore.markSubmitted(c, id: id, batchID: batchID, now: now)
            }) { writer in
                try await writer.write(Array((Self.header.joined(separator: ";") + "\n").utf8))
                var after = -1
                while true {
                    let page = try await store.lines(id: id, after: after, limit: 5_000)
                    guard let last = page.last else { break }
                    var chunk: [UInt8] = []
                    for (_, line) in page {
                        chunk.append(contentsOf: line.utf8)
                        chunk.append(10)
                    }
                    try await writer.write(chunk)
                    after = last.seq
                }
                return nil
            }
        } catch let e as SubmissionStore.AppendError {
            throw Self.apiError(e)
        }
        let size = batch.byteSize
        var logger = context.logger
        logger[metadataKey: "batch_id"] = "\(batchID)"
        logger[metadataKey: "trace_id"] = "\(batch.traceID)"
        logger.info("submission submitted", metadata: ["lines": "\(record.lines)", "bytes": "\(size)"])
        var response = try BatchResponse(batch).response(from: request, context: context)
        response.status = .accepted
        response.headers[.location] = "/v1/batches/\(batchID)"
        return response
    }

    /// One debt as a record of the standard format: every value quoted, quotes doubled.
    static func csvLine(_ values: [DebtField: String]) -> String {
        DebtField.allCases.map { field in
            "\"" + (values[field] ?? "").replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ";")
    }

    static func apiError(_ error: SubmissionStore.AppendError) -> APIError {
        switch error {
        case .notFound:
            return APIError.notFound("Submissão")
        case .notOpen(.expired):
            return APIError(.gone, code: "expired", message: "A submissão expirou sem ser enviada; abra outra.")
        case .notOpen:
            return APIError(.conflict, code: "already_submitted", message: "A submissão já foi enviada; abra outra para mais dívidas.")
        case .tooManyLines(let limit):
            return APIError(.contentTooLarge, code: "too_many", message: "Uma submissão aceita até \(limit) dívidas; envie esta e abra outra.")
        }
    }
}

struct SubmissionResponse: ResponseEncodable, Sendable {
    var id: String
    var status: String
    var lines: Int
    var batchID: String?
    var createdAt: String
    var expiresAt: String

    enum CodingKeys: String, CodingKey {
        case id, status, lines
        case batchID = "batch_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
    }

    init(_ r: SubmissionRecord) {
        id = r.id
        status = r.status.rawValue
        lines = r.lines
        batchID = r.batchID
        createdAt = Timestamp.isoSeconds(r.createdAt)
        expiresAt = Timestamp.isoSeconds(r.expiresAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(lines, forKey: .lines)
        try c.encode(batchID, forKey: .batchID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(expiresAt, forKey: .expiresAt)
    }
}

struct AddedAnswer: Encodable {
    var added: Int
    var lines: Int
}

struct ItemProblemsAnswer: Encodable {
    var error: ItemProblemsJSON
}

struct ItemProblemsJSON: Encodable {
    var code: String
    var message: String
    var items: [ItemProblemJSON]
}

struct ItemProblemJSON: Encodable {
    var index: Int
    var field: String
    var code: String
    var message: String
}

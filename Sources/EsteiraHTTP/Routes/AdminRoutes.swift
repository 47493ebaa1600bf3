import EsteiraCore
import EsteiraRisk
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/admin`: what the agency's operators keep, behind an operator key: the CPF/CNPJ
/// blacklist the risk rules read (K002), and each client's amount limits (K005, K008).
/// Documents are never logged whole.
struct AdminRoutes {
    let db: any SQLDatabase
    /// This process's copy of the blacklist, dropped after every change made here.
    let blacklistCache: BlacklistCache
    var blacklist: BlacklistStore { BlacklistStore(db: db) }

    /// The most lines one import takes.
    static let maxImportLines = 100_000

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.put("blacklist/:document", use: put)
        group.get("blacklist/:document", use: get)
        group.delete("blacklist/:document", use: delete)
        group.post("blacklist/import", use: importCSV)
        group.put("clients/:id/limits", use: putLimits)
    }

    struct Limits: Codable, ResponseEncodable {
        var clientID: String?
        var maxAmount: String?
        var minAmount: String?
        enum CodingKeys: String, CodingKey { case clientID = "client_id", maxAmount = "max_amount", minAmount = "min_amount" }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(clientID, forKey: .clientID)
            try c.encode(maxAmount, forKey: .maxAmount)
            try c.encode(minAmount, forKey: .minAmount)
        }
    }

    /// `{"max_amount": "50000,00" | null, "min_amount": "10,00" | null}`: the client's amount
    /// limits for the risk rules; null (or absent) returns to the agency's default.
    @Sendable func putLimits(_ request: Request, context: EsteiraRequestContext) async throws -> Limits {
        guard let op = context.operatorRecord else { throw APIError.unauthorized }
        let id = context.parameters.get("id") ?? ""
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let limits = try? JSONDecoder().decode(Limits.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json", message: "O corpo deve ser {\"max_amount\": \"50000,00\" ou null, \"min_amount\": \"10,00\" ou null}.")
        }
        func cents(_ text: String?, _ field: String) throws -> Int64? {
            guard let text, !text.isEmpty else { return nil }
            guard case .success(let c) = Money.parseCents(text), c > 0 else {
                throw APIError(.unprocessableContent, code: "R004", message: "O valor \(text) não é um valor positivo (use 1234,56 ou 1234.56).",
                               field: field)
            }
            return c
        }
        let max = try cents(limits.maxAmount, "max_amount"), min = try cents(limits.minAmount, "min_amount")
        if let max, let min, min > max {
            throw APIError(.unprocessableContent, code: "invalid_limits", message: "O mínimo passa do máximo.", field: "min_amount")
        }
        do {
            try await ClientStore(db: db).setLimits(id: id, maxAmountCents: max, minAmountCents: min, by: .api(op))
        } catch is StoreError {
            throw APIError.notFound("Cliente")
        }
        context.logger.info("client limits set", metadata: ["client_id": "\(id)"])
        return Limits(clientID: id, maxAmount: max.map(Money.decimalString), minAmount: min.map(Money.decimalString))
    }

    static func document(_ context: EsteiraRequestContext) throws -> String {
        let raw = context.parameters.get("document") ?? ""
        guard case .success(let id) = TaxID.parse(raw.removingPercentEncoding ?? raw) else {
            throw APIError(.unprocessableContent, code: "invalid_document", message: "O documento não é um CPF ou CNPJ válido.")
        }
        return id.value
    }

    struct Reason: Decodable { var reason: String? }

    static func reason(_ request: Request, required: Bool) async throws -> String? {
        let body = try await request.body.collect(atMost: 16 * 1024)
        let reason = body.readableBytes == 0 ? nil
            : (try? JSONDecoder().decode(Reason.self, from: Data(body.readableBytesView)))?.reason?.trimmingCharacters(in: .whitespaces)
        if required && (reason ?? "").isEmpty {
            throw APIError(.unprocessableContent, code: "reason_required", message: "Informe o motivo: {\"reason\": \"…\"}.")
        }
        return reason
    }

    struct EntryResponse: ResponseEncodable {
        var document: String
        var reason: String
        var operatorID: String
        var createdAt: Date
        var updatedAt: Date
        var history: [Event]

        struct Event: Encodable {
            var action: String
            var reason: String?
            var operatorID: String
            var at: Date
            enum CodingKeys: String, CodingKey { case action, reason, operatorID = "operator_id", at }
        }

        enum CodingKeys: String, CodingKey {
            case document, reason, operatorID = "operator_id", createdAt = "created_at", updatedAt = "updated_at", history
        }
    }

    func entry(_ document: String) async throws -> EntryResponse? {
        guard let e = try await blacklist.get(document: document) else { return nil }
        let history = try await blacklist.history(document: document).map {
            EntryResponse.Event(action: $0.action, reason: $0.reason, operatorID: $0.operatorID, at: $0.at)
        }
        return EntryResponse(document: e.document, reason: e.reason, operatorID: e.operatorID, createdAt: e.createdAt,
                             updatedAt: e.updatedAt, history: history)
    }

    /// Adds the document (201) or changes its reason (200).
    @Sendable func put(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let op = context.operatorRecord else { throw APIError.unauthorized }
        let document = try Self.document(context)
        let reason = try await Self.reason(request, required: true)!
        let added = try await blacklist.put([(document, reason)], by: .api(op))
        blacklistCache.invalidate()
        context.logger.info("blacklist entry saved", metadata: ["document": "\(TaxID.mask(document).prefix(3))…", "added": "\(added == 1)"])
        var response = try await entry(document)!.response(from: request, context: context)
        response.status = added == 1 ? .created : .ok
        return response
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> EntryResponse {
        guard let e = try await entry(try Self.document(context)) else { throw APIError.notFound("Documento na lista de bloqueio") }
        return e
    }

    @Sendable func delete(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let op = context.operatorRecord else { throw APIError.unauthorized }
        let document = try Self.document(context)
        let reason = try await Self.reason(request, required: false)
        guard try await blacklist.delete(document: document, reason: reason, by: .api(op)) else {
            throw APIError.notFound("Documento na lista de bloqueio")
        }
        blacklistCache.invalidate()
        return Response(status: .noContent)
    }

    struct ImportError: Encodable {
        var line: Int
        var field: String?
        var code: String
        var message: String
    }

    /// A CSV of `document;reason` (or comma-separated), with a header line: all lines or none.
    /// 200 with how many were added and changed; 422 with every bad line's number, field and code
    /// (B001 invalid document, B002 missing reason, B003 not two columns).
    @Sendable func importCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let op = context.operatorRecord else { throw APIError.unauthorized }
        let body = Array(try await request.body.collect(atMost: 32 << 20).readableBytesView)
        let (items, errors) = try Self.parseImport(body)
        let json = APIJSON.encoder()
        guard errors.isEmpty else {
            let body = try json.encode(["error": ImportFailure(code: "invalid_lines", message: "Nenhuma linha foi importada: corrija as linhas listadas.", issues: errors)])
            return Response(status: .unprocessableContent, headers: [.contentType: "application/json; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let added = try await blacklist.put(items, by: .api(op))
        blacklistCache.invalidate()
        context.logger.info("blacklist imported", metadata: ["lines": "\(items.count)", "added": "\(added)"])
        let out = try json.encode(["added": added, "changed": items.count - added])
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
    }

    /// The lines of a blacklist import (`document;reason`, a header first), each good line's
    /// document and reason, and every bad line's problem; the API and the console share it.
    static func parseImport(_ body: [UInt8]) throws -> (items: [(document: String, reason: String)], errors: [ImportError]) {
        let encoding = TextHead.encoding(body, complete: true)
        let start = TextHead.bomLength(body)
        let delimiter = TextHead.delimiter(body)
        var scanner = CSVScanner(delimiter: delimiter, startOffset: start)
        var records: [CSVScanner.Record] = []
        body.withUnsafeBufferPointer { b in
            scanner.feed(UnsafeBufferPointer(rebasing: b[start...])) { if !$0.isBlank { records.append($0) } }
            scanner.finish { if !$0.isBlank { records.append($0) } }
        }
        guard records.count >= 2 else {
            throw APIError(.unprocessableContent, code: "empty", message: "O arquivo deve ter um cabeçalho (documento;motivo) e ao menos uma linha.")
        }
        guard records.count - 1 <= Self.maxImportLines else {
            throw APIError(.contentTooLarge, code: "too_large", message: "Envie até \(Self.maxImportLines) linhas por importação.")
        }
        var items: [(document: String, reason: String)] = []
        var errors: [ImportError] = []
        for r in records.dropFirst() {
            let values = CSVRecordParser.fields(Array(body[r.start..<r.end]), delimiter: delimiter, encoding: encoding).values
                .map { $0.trimmedSpaces }
            guard values.count == 2 else {
                errors.append(ImportError(line: r.line, field: nil, code: "B003", message: "A linha deve ter 2 colunas (documento e motivo); tem \(values.count)."))
                continue
            }
            guard case .success(let id) = TaxID.parse(values[0]) else {
                errors.append(ImportError(line: r.line, field: "document", code: "B001", message: "O documento não é um CPF ou CNPJ válido."))
                continue
            }
            guard !values[1].isEmpty else {
                errors.append(ImportError(line: r.line, field: "reason", code: "B002", message: "O motivo está vazio."))
                continue
            }
            items.append((id.value, values[1]))
        }
        return (items, errors)
    }

    struct ImportFailure: Encodable {
        var code: String
        var message: String
        var issues: [ImportError]
    }
}

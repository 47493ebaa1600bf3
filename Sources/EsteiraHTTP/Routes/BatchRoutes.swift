import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import Foundation
import Hummingbird
import Logging
import Synchronization

/// `/v1/batches`: upload a file, follow its batch, read its rejects.
struct BatchRoutes {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let retry: RetryPolicy
    /// The largest file accepted; a bigger one is refused with 413 and nothing is kept.
    let maxFileBytes: Int
    /// Called once a new batch's first job is committed: wakes this process's idle workers.
    let jobsReady: @Sendable () async -> Void
    /// The client's rows of the day, checked as an upload streams in.
    let quotas: ClientQuotas

    static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "too_large",
                 message: "O arquivo passa do limite de \(limit) bytes. Divida-o em arquivos menores.")
    }

    var batches: BatchStore { BatchStore(db: db) }
    var intake: Intake { Intake(db: db, blobs: blobs, retry: retry, jobsReady: jobsReady) }
    var registry: DebtRegistry { DebtRegistry(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("batches", use: upload)
        group.get("batches", use: list)
        group.get("batches/:id", use: get)
        group.get("batches/:id/rejects", use: rejects)
        group.get("batches/:id/rejects.csv", use: rejectsCSV)
        group.get("batches/:id/preview", use: preview)
        group.get("batches/:id/missing", use: missing)
        group.get("batches/:id/missing.csv", use: missingCSV)
        group.post("batches/:id/confirm", use: confirm)
    }

    struct MissingJSON: Codable, Sendable {
        var externalID: String
        var statusBefore: String
        var withdrawn: Bool
        enum CodingKeys: String, CodingKey { case externalID = "external_id", statusBefore = "status_before", withdrawn }
    }

    /// The batch, when it is a full-portfolio file that has ended; 409 `not_full_portfolio` otherwise.
    func endedFullPortfolio(_ context: EsteiraRequestContext) async throws -> BatchRecord {
        let batch = try await batch(context)
        guard batch.fullPortfolio else {
            throw APIError(.conflict, code: "not_full_portfolio", message: "O lote não foi enviado como carteira completa (portfolio=full).")
        }
        guard batch.status == .completed || batch.status == .completedWithRejects else {
            throw APIError(.conflict, code: "not_full_portfolio",
                           message: "As dívidas ausentes de uma carteira completa são conhecidas quando o lote termina; ele está \(batch.status.rawValue).")
        }
        return batch
    }

    /// The open debts a full-portfolio file left out, paged (docs/portfolio.md).
    @Sendable func missing(_ request: Request, context: EsteiraRequestContext) async throws -> ListResponse<MissingJSON> {
        let batch = try await endedFullPortfolio(context)
        let paging = try Paging(request)
        return ListResponse(try await batches.missing(batchID: batch.id, page: paging.page, perPage: paging.perPage)) {
            MissingJSON(externalID: $0.externalID, statusBefore: $0.statusBefore, withdrawn: $0.withdrawn)
        }
    }

    /// The same as a CSV a spreadsheet opens safely.
    @Sendable func missingCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let batch = try await endedFullPortfolio(context)
        let batches = self.batches
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "\u{FEFF}external_id;situacao_anterior;baixada\r\n"))
            var page = 1
            while true {
                let slice = try await batches.missing(batchID: batch.id, page: page, perPage: 5000)
                var text = ""
                for m in slice.items {
                    text += "\(SpreadsheetCSV.cell(m.externalID));\(DebtCSV.statusText(m.statusBefore));\(m.withdrawn ? "sim" : "não")\r\n"
                }
                try await writer.write(ByteBuffer(string: text))
                if page * 5000 >= slice.total { break }
                page += 1
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"ausentes-\(batch.id).csv\"",
        ], body: body)
    }

    struct PreviewJSON: ResponseEncodable {
        var batch: BatchResponse
        var preview: BatchPreview
    }

    /// A dry run's preview: what each row would do (docs/portfolio.md). 409 `no_preview` while it
    /// is being made, or for a batch that is no dry run.
    @Sendable func preview(_ request: Request, context: EsteiraRequestContext) async throws -> PreviewJSON {
        // The preview first: the batch read after it is the one it made `previewed`.
        let id = context.parameters.get("id") ?? ""
        let made = try await batches.preview(batchID: id)
        let batch = try await batch(context)
        guard batch.dryRun else {
            throw APIError(.conflict, code: "no_preview", message: "O lote não foi enviado com dry_run=true: não tem prévia.")
        }
        guard let preview = made else {
            throw APIError(.conflict, code: "no_preview", message: "A prévia do lote ainda está sendo feita; consulte de novo em instantes.")
        }
        return PreviewJSON(batch: BatchResponse(batch), preview: preview)
    }

    /// A previewed batch confirmed: it registers as any batch does, from its rows already read.
    /// 202 with the batch; 409 `not_previewed` for a batch that is not waiting for confirmation.
    @Sendable func confirm(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let id = context.parameters.get("id") ?? ""
        switch try await batches.confirm(id: id, clientID: client.id, retry: retry) {
        case .notFound: throw APIError.notFound("Lote")
        case .notPreviewed(let status):
            throw APIError(.conflict, code: "not_previewed",
                           message: "O lote não está aguardando confirmação (situação: \(status.rawValue)); só uma prévia pronta é confirmada.")
        case .confirmed(let batch):
            await jobsReady()
            var response = try BatchResponse(batch).response(from: request, context: context)
            response.status = .accepted
            response.headers[.location] = "/v1/batches/\(batch.id)"
            return response
        }
    }

    /// Streams the body (raw CSV, or the `file` field of a multipart form) to the blob store
    /// unchanged, then records the batch and its pick job in one durable transaction.
    @Sendable func upload(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let batchID = UUID().uuidString.lowercased()
        let traceID = BatchRecord.newTraceID()
        var logger = context.logger
        logger[metadataKey: "batch_id"] = "\(batchID)"
        logger[metadataKey: "trace_id"] = "\(traceID)"

        // The format named by the upload, else the client's default, else the header's standard names.
        let formats = ClientFormatStore(db: db)
        let format: SavedFormat?
        if let name = request.uri.queryParameters["format"].map(String.init), !name.isEmpty {
            guard let named = try await formats.get(clientID: client.id, name: name) else {
                throw APIError(.unprocessableContent, code: "unknown_format", message: "O formato \(name) não existe. Veja GET /v1/formats.")
            }
            format = named
        } else {
            format = try await formats.defaultFormat(clientID: client.id)
        }

        let contentType = request.headers[.contentType] ?? ""
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxFileBytes + 64 * 1024 {
            throw Self.tooLarge(maxFileBytes)
        }
        let fileName = request.uri.queryParameters["file_name"].map(String.init)
        let dryRun: Bool
        switch request.uri.queryParameters["dry_run"].map(String.init) {
        case nil, "", "false": dryRun = false
        case "true": dryRun = true
        default: throw APIError.invalidParameter("dry_run", "true ou false")
        }
        let fullPortfolio: Bool
        switch request.uri.queryParameters["portfolio"].map(String.init) {
        case nil, "", "partial": fullPortfolio = false
        case "full": fullPortfolio = true
        default: throw APIError.invalidParameter("portfolio", "full (o arquivo é a carteira inteira) ou partial")
        }
        let wait = try Self.waitSeconds(request)
        let multipart = contentType.lowercased().hasPrefix("multipart/form-data")
        let source = multipart ? "api_multipart" : "api_csv"
        var boundary: String?
        if multipart {
            boundary = Self.boundary(of: contentType)
            guard boundary != nil else { throw APIError(.badRequest, code: "invalid_multipart", message: "Content-Type multipart sem boundary.") }
        }
        let limit = maxFileBytes
        let arrival = Intake.Arrival(client: client, source: source, fileName: fileName, format: format, batchID: batchID, traceID: traceID,
                                     dryRun: dryRun, fullPortfolio: fullPortfolio)
        // The rows of the day: refused at once when none are left, else counted as the file
        // streams, refused as soon as it passes what is left, and taken in the transaction that
        // records the batch (two uploads at once cannot both pass).
        let day = Day(arrival.receivedAt, in: Day.saoPaulo)
        let rowsLimit = quotas.rowsPerDay(client)
        let used = try await ClientUsage.used(db, clientID: client.id, day: day)
        if used >= rowsLimit { throw ClientQuotas.exceeded(limit: rowsLimit, used: used) }
        let nonRecords = Self.nonRecordLines(format?.format)
        let counted = Mutex<QuotaCountingWriter?>(nil)
        let batch = try await intake.receive(
            arrival,
            limit: { raw in
                let writer = QuotaCountingWriter(LimitedBlobWriter(raw, limit: limit), limit: rowsLimit, used: used, nonRecords: nonRecords)
                counted.withLock { $0 = writer }
                return writer
            },
            reserve: { counted.withLock { $0?.records } },
            alongside: { c in
                guard let records = counted.withLock({ $0?.records }) else { return }
                guard try await ClientUsage.reserve(c, clientID: client.id, day: day, rows: records, limit: rowsLimit) else {
                    throw ClientQuotas.exceeded(limit: rowsLimit, used: try await ClientUsage.used(c, clientID: client.id, day: day), wouldAdd: records)
                }
            }
        ) { writer in
            if let boundary { return try await Self.streamFilePart(request.body, boundary: boundary, to: writer) }
            for try await buffer in request.body { try await writer.write(Array(buffer.readableBytesView)) }
            return nil
        }
        let size = batch.byteSize
        logger.info("batch received", metadata: ["bytes": "\(size)", "source": "\(source)"])
        if wait > 0, let settled = try await settled(batchID, within: .seconds(wait)) {
            var response = try await SettledBatchResponse(settled, registry: registry).response(from: request, context: context)
            response.headers[.location] = "/v1/batches/\(batchID)"
            return response
        }
        var response = try BatchResponse(batch).response(from: request, context: context)
        response.status = .accepted
        response.headers[.location] = "/v1/batches/\(batchID)"
        return response
    }

    /// Lines of a file that are not records: the header of a delimited file, and what the
    /// client's format skips at either end.
    static func nonRecordLines(_ format: ClientFormat?) -> Int {
        (format?.fixedWidth == nil ? 1 : 0) + (format?.skipFirstLines ?? 0) + (format?.skipLastLines ?? 0)
    }

    /// `?wait=N`: how long the upload may hold its answer for the batch to settle, 0 to 30 seconds.
    static func waitSeconds(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters["wait"].map(String.init), !text.isEmpty else { return 0 }
        guard let n = Int(text), (0...30).contains(n) else {
            throw APIError.invalidParameter("wait", "segundos de espera pela conclusão do lote, de 0 a 30")
        }
        return n
    }

    /// The batch once it has settled (final, a preview ready, or stalled: none moves again without
    /// the client or an operator), read every few tens of milliseconds; nil when `within` passes first.
    func settled(_ id: String, within: Duration) async throws -> BatchRecord? {
        let deadline = ContinuousClock.now + within
        var pause = Duration.milliseconds(20)
        while true {
            if let b = try await batches.get(id: id), b.status.isFinal || b.status == .previewed || b.status == .stalled { return b }
            guard ContinuousClock.now + pause < deadline else { return nil }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
        }
    }

    static func boundary(of contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let p = part.trimmingCharacters(in: .whitespaces)
            if p.lowercased().hasPrefix("boundary=") {
                var b = String(p.dropFirst("boundary=".count))
                if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
                return b.isEmpty ? nil : b
            }
        }
        return nil
    }

    /// Writes the `file` part's bytes as the body streams in (`MultipartFilePart`); returns the
    /// part's file name.
    static func streamFilePart(_ body: RequestBody, boundary: String, to writer: any BlobWriter) async throws -> String? {
        var part = MultipartFilePart(boundary: boundary)
        do {
            for try await buffer in body {
                let bytes = try buffer.withUnsafeReadableBytes { b in try part.feed(b) }
                if !bytes.isEmpty { try await writer.write(bytes) }
            }
            return try part.finish()
        } catch let problem as MultipartFilePart.Problem {
            switch problem {
            case .malformed: throw APIError(.badRequest, code: "invalid_multipart", message: "Corpo multipart malformado.")
            case .missingFile: throw APIError(.badRequest, code: "missing_file", message: "O formulário não tem o campo file com o arquivo.")
            case .truncated:
                throw APIError(.badRequest, code: "truncated_multipart",
                               message: "O corpo multipart terminou antes do delimitador final: o envio foi interrompido e nada foi guardado. Envie o arquivo de novo.")
            }
        }
    }

    func batch(_ context: EsteiraRequestContext) async throws -> BatchRecord {
        let client = try context.requireClient()
        let id = context.parameters.get("id") ?? ""
        guard var batch = try await batches.get(id: id, clientID: client.id) else { throw APIError.notFound("Lote") }
        if batch.status == .processing {
            var progress = try await batches.progress(batchID: id)
            progress.received = batch.counts.received
            batch.counts = progress
        }
        return batch
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> BatchResponse {
        BatchResponse(try await batch(context))
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ListResponse<BatchResponse> {
        let client = try context.requireClient()
        let paging = try Paging(request)
        var status: BatchStatus?
        if let s = request.uri.queryParameters["status"], !s.isEmpty {
            guard let st = BatchStatus(rawValue: String(s)) else {
                throw APIError.invalidParameter("status", "use um de \(BatchStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            status = st
        }
        let page = try await batches.list(clientID: client.id, status: status, page: paging.page, perPage: paging.perPage)
        return ListResponse(page, BatchResponse.init)
    }

    @Sendable func rejects(_ request: Request, context: EsteiraRequestContext) async throws -> ListResponse<RejectResponse> {
        let batch = try await batch(context)
        let paging = try Paging(request)
        let page = try await registry.rejects(batchID: batch.id, page: paging.page, perPage: paging.perPage)
        return ListResponse(page, RejectResponse.init)
    }

    /// The reject report as a Brazilian Excel opens it: a BOM, `;`, Portuguese headers
    /// (`linha;campo;código;mensagem;conteúdo original`) and field names, every cell made safe
    /// from formulas; streamed page by page. Programs read the JSON form (`/rejects`).
    @Sendable func rejectsCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let batch = try await batch(context)
        let registry = self.registry
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "\u{FEFF}" + SpreadsheetCSV.rejectHeader))
            try await registry.rejectReport(batchID: batch.id) { try await writer.write(ByteBuffer(string: $0)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"rejeitados-\(batch.id).csv\"",
        ], body: body)
    }
}

/// Passes writes on until more than `limit` bytes have come, then refuses (413).
final class LimitedBlobWriter: BlobWriter, Sendable {
    let inner: any BlobWriter
    let limit: Int
    private let written = Mutex(0)

    init(_ inner: any BlobWriter, limit: Int) {
        self.inner = inner
        self.limit = limit
    }

    func write(_ bytes: [UInt8]) async throws {
        let total = written.withLock { n -> Int in
            n += bytes.count
            return n
        }
        guard total <= limit else { throw BatchRoutes.tooLarge(limit) }
        try await inner.write(bytes)
    }

    func finish() async throws -> Int { try await inner.finish() }
    func abort() async { await inner.abort() }
}

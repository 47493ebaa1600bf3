import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraSheets
import EsteiraStore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The self-service pages under `/app`, in Portuguese, rendered on the server: sign in with the
/// API key; upload a CSV, TXT or XLSX file; see its first 100 rows and map each field to one of
/// its columns; follow the batch until it ends; read and download its rejects.
///
/// An uploaded file is kept at once where a batch's raw file goes, as a draft (a small JSON
/// beside it says its name); confirming the mapping saves it as a preset of the client and
/// starts the batch with the draft's id, so a double submit finds the batch already there.
struct WebRoutes {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let retry: RetryPolicy
    let maxFileBytes: Int
    let jobsReady: @Sendable () async -> Void
    let keys: KeyKeeper
    let quotas: ClientQuotas
    let pages: MustacheLibrary

    static let cookie = "esteira_sessao"
    static let sessionLifetime: TimeInterval = 8 * 3600
    static let previewBytes = 1 << 20

    init(db: any SQLDatabase, blobs: any BlobStore, retry: RetryPolicy, maxFileBytes: Int, keys: KeyKeeper, quotas: ClientQuotas,
         jobsReady: @escaping @Sendable () async -> Void) {
        self.db = db
        self.keys = keys
        self.quotas = quotas
        self.blobs = blobs
        self.retry = retry
        self.maxFileBytes = maxFileBytes
        self.jobsReady = jobsReady
        pages = WebTemplates.library
    }

    var sessions: WebSessionStore { WebSessionStore(db: db) }
    var batchRoutes: BatchRoutes {
        BatchRoutes(db: db, blobs: blobs, retry: retry, maxFileBytes: maxFileBytes, jobsReady: jobsReady, quotas: quotas)
    }

    func add(to router: Router<EsteiraRequestContext>) {
        router.get("app") { _, _ in Self.redirect("/app/lotes") }
        // The pages' one script, the same for everyone: no session needed, cached for an hour.
        router.get("app/lote.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: WebTemplates.batchScript)))
        }
        let app = router.group("app").add(middleware: WebSessionMiddleware(sessions: sessions)).add(middleware: WebCSRFMiddleware())
        app.get("entrar", use: signInPage)
        app.post("entrar", use: signIn)
        app.post("sair", use: signOut)
        app.get("lotes", use: batchList)
        app.get("lotes/:id", use: batchPage)
        app.get("lotes/:id/estado", use: batchState)
        app.get("lotes/:id/rejeitados.csv", use: rejectsCSV)
        app.post("lotes/:id/confirmar", use: confirmBatch)
        app.get("enviar", use: uploadPage)
        app.post("enviar", use: upload)
        app.get("enviar/:draft", use: mappingPage)
        app.post("enviar/:draft", use: confirm)
    }

    // MARK: - Rendering

    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    func page(_ template: String, title: String, client: ClientRecord?, _ values: [String: Any],
              status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var values = values
        values["csrf"] = WebCSRFMiddleware.token
        let body = pages.render(values, withTemplate: template) ?? ""
        var layout: [String: Any] = ["title": title, "body": body, "csrf": WebCSRFMiddleware.token]
        if let client { layout["client"] = ["name": client.name] }
        let html = pages.render(layout, withTemplate: "layout") ?? body
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[ContentSecurityPolicy.name] = ContentSecurityPolicy.clientPages
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let saoPauloTime: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "pt_BR")
        f.timeZone = TimeZone(identifier: "America/Sao_Paulo")
        f.dateFormat = "dd/MM/yyyy HH:mm"
        return f
    }()


    // MARK: - Sign in and out

    @Sendable func signInPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        if context.client != nil { return Self.redirect("/app/lotes") }
        return page("entrar", title: "Entrar", client: nil, [:])
    }

    @Sendable func signIn(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let address = keys.guardian.address(request, context)
        if let after = keys.guardian.refusal(address) {
            var response = page("entrar", title: "Entrar", client: nil,
                                ["error": "Muitas tentativas com chave inválida a partir deste endereço. Tente de novo em \(after) segundos."],
                                status: .tooManyRequests)
            response.headers[.retryAfter] = "\(after)"
            return response
        }
        let form = FormBody.parse(try await request.body.collect(atMost: 16 * 1024))
        let key = (form["chave"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let found = key.isEmpty ? nil : try await ClientStore(db: db).clients(keyHashes: [ClientStore.hash(apiKey: key)]).first ?? nil
        guard let (client, match) = found else {
            try await keys.signInFailed(address, channel: "web")
            return page("entrar", title: "Entrar", client: nil, ["error": "Chave de API inválida ou revogada."], status: .unauthorized)
        }
        if match.expired(at: Date()), let expiry = match.expiresAt {
            return page("entrar", title: "Entrar", client: nil,
                        ["error": "Esta chave expirou em \(Self.saoPauloTime.string(from: expiry)). Use outra chave válida."], status: .unauthorized)
        }
        let token = try await sessions.create(clientID: client.id, keyID: match.keyID, lifetime: Self.sessionLifetime)
        try await keys.signedIn(AuditActor(operatorID: nil, name: "client:\(client.id)", channel: "web"), address: address, key: key)
        let secure = request.headers[HTTPField.Name("X-Forwarded-Proto")!] == "https" ? "; Secure" : ""
        return Self.redirect("/app/lotes", headers: [
            .setCookie: "\(Self.cookie)=\(token); Path=/app; HttpOnly; SameSite=Strict; Max-Age=\(Int(Self.sessionLifetime))\(secure)",
        ])
    }

    @Sendable func signOut(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        if let token = WebSessionMiddleware.token(request) { try await sessions.delete(token: token) }
        return Self.redirect("/app/entrar", headers: [.setCookie: "\(Self.cookie)=; Path=/app; HttpOnly; SameSite=Strict; Max-Age=0"])
    }

    // MARK: - Batches

    @Sendable func batchList(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        let list = try await BatchStore(db: db).list(clientID: client.id, status: nil, page: 1, perPage: 100)
        let rows: [[String: Any]] = list.items.map { b in
            ["id": b.id, "file": b.fileName ?? b.source, "received": Self.saoPauloTime.string(from: b.createdAt),
             "status": b.status.portugueseName, "received_count": b.counts.received, "registered": b.counts.registered,
             "updated": b.counts.updated, "withdrawn": b.counts.withdrawn, "duplicates": b.counts.duplicates, "rejected": b.counts.rejected]
        }
        return page("lotes", title: "Lotes", client: client, ["batches": rows, "empty": rows.isEmpty])
    }

    func ownBatch(_ context: EsteiraRequestContext, _ client: ClientRecord) async throws -> BatchRecord? {
        guard let id = context.parameters.get("id") else { return nil }
        return try await BatchStore(db: db).get(id: id, clientID: client.id)
    }

    @Sendable func batchPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        guard let b = try await ownBatch(context, client) else { throw APIError.notFound("Lote") }
        let rejects = try await DebtRegistry(db: db).rejects(batchID: b.id, page: 1, perPage: 100)
        var values: [String: Any] = [
            "id": b.id, "file": b.fileName ?? b.source, "status": b.status.portugueseName,
            "final": b.status.isFinal || b.status == .previewed,
            "received_count": b.counts.received, "registered": b.counts.registered, "updated": b.counts.updated,
            "withdrawn": b.counts.withdrawn, "duplicates": b.counts.duplicates,
            "rejected": b.counts.rejected, "review": b.counts.review, "received": Self.saoPauloTime.string(from: b.createdAt),
            "has_rejects": rejects.total > 0, "more_rejects": rejects.total > rejects.items.count, "shown": rejects.items.count,
            "rejects": rejects.items.map { r -> [String: Any] in
                // The row's own data, so the client recognises it without opening the file; a very long
                // row is cut, the report (CSV) has it whole.
                ["line": r.line, "field": DebtField(rawValue: r.field)?.portugueseName ?? r.field, "code": r.code, "message": r.message,
                 "raw": r.raw.count > 300 ? r.raw.prefix(300) + "…" : r.raw]
            },
        ]
        if b.status == .previewed, let preview = try await BatchStore(db: db).preview(batchID: b.id) {
            let counts = preview.counts
            values["preview"] = [
                "new": counts.new, "corrected": counts.corrected, "withdrawn": counts.withdrawn, "unchanged": counts.unchanged,
                "conflicts": counts.conflicts, "rejected": counts.rejected, "received": counts.received,
                "has_rejects": !preview.rejects.isEmpty,
                "rejects": preview.rejects.prefix(100).map { r -> [String: Any] in
                    ["line": r.line, "field": DebtField(rawValue: r.field)?.portugueseName ?? r.field, "code": r.code, "message": r.message]
                },
            ] as [String: Any]
        }
        // Absent keys, not nil values: Mustache would print a nil.
        if let error = b.error { values["error"] = "\(error) (código \(b.errorCode ?? ""))" }
        if let format = b.formatName { values["format"] = format }
        return page("lote", title: "Lote \(b.fileName ?? "")", client: client, values)
    }

    /// The client confirms a previewed batch: it registers. A batch no longer waiting (confirmed
    /// in another tab) just shows its page.
    @Sendable func confirmBatch(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        let id = context.parameters.get("id") ?? ""
        switch try await BatchStore(db: db).confirm(id: id, clientID: client.id, retry: retry) {
        case .notFound: throw APIError.notFound("Lote")
        case .notPreviewed: break
        case .confirmed(let batch):
            await jobsReady()
            context.logger.info("batch confirmed", metadata: ["batch_id": "\(id)", "trace_id": "\(batch.traceID)"])
        }
        return Self.redirect("/app/lotes/\(id)")
    }

    @Sendable func batchState(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { throw APIError.unauthorized }
        guard let b = try await ownBatch(context, client) else { throw APIError.notFound("Lote") }
        // A preview waits for the client: the page stops asking and shows it.
        let state = BatchPageState(status: b.status.portugueseName, final: b.status.isFinal || b.status == .previewed, counts: .init(
            recebidas: b.counts.received, registradas: b.counts.registered, alteradas: b.counts.updated, baixadas: b.counts.withdrawn,
            duplicadas: b.counts.duplicates,
            rejeitadas: b.counts.rejected, revisao: b.counts.review))
        var response = try Response.json(.ok, state, location: nil)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func rejectsCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard context.client != nil else { return Self.redirect("/app/entrar") }
        return try await batchRoutes.rejectsCSV(request, context: context)
    }

    // MARK: - Upload, preview and mapping

    func uploadPage(error: String?, client: ClientRecord, status: HTTPResponse.Status = .ok) -> Response {
        let limit = maxFileBytes >= 1 << 30 ? "\(maxFileBytes >> 30) GB" : "\(maxFileBytes >> 20) MB"
        var values: [String: Any] = ["limit": limit]
        if let error { values["error"] = error }
        return page("enviar", title: "Enviar arquivo", client: client, values, status: status)
    }

    @Sendable func uploadPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        return uploadPage(error: nil, client: client)
    }

    /// What a draft keeps beside its file.
    struct Draft: Codable {
        var fileName: String
        var size: Int
        /// The file's header, as the preview read it: confirming needs only this.
        var header: [String]
        /// When it was uploaded: a draft never confirmed is removed after its retention (Purge).
        var createdAt: String?
    }

    static func draftKey(clientID: String, draftID: String) -> String { "drafts/\(clientID)/\(draftID).json" }

    @Sendable func upload(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        let draftID = UUID().uuidString.lowercased()
        let key = BlobKeys.raw(clientID: client.id, batchID: draftID)
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data"), let boundary = BatchRoutes.boundary(of: contentType) else {
            return uploadPage(error: "Envie o arquivo pelo formulário.", client: client, status: .badRequest)
        }
        let writer = LimitedBlobWriter(try await blobs.makeWriter(key: key), limit: maxFileBytes)
        let fileName: String?
        let size: Int
        do {
            fileName = try await BatchRoutes.streamFilePart(request.body, boundary: boundary, to: writer)
            size = try await writer.finish()
        } catch let error as APIError {
            await writer.abort()
            return uploadPage(error: error.message, client: client, status: error.status)
        } catch {
            await writer.abort()
            throw error
        }
        let name = (fileName ?? "").isEmpty ? "arquivo" : fileName!
        let header: [String]
        do {
            guard size > 0 else { throw FileProblem.empty }
            header = try await preview(key: key, fileName: name).header
        } catch {
            try? await blobs.delete(key: key)
            return uploadPage(error: Self.message(error), client: client, status: .unprocessableContent)
        }
        try await blobs.put(key: Self.draftKey(clientID: client.id, draftID: draftID),
                            bytes: Array(try JSONEncoder().encode(Draft(fileName: name, size: size, header: header, createdAt: Timestamp.iso(Date())))))
        return Self.redirect("/app/enviar/\(draftID)")
    }

    static func message(_ error: any Error) -> String {
        switch error {
        case let p as FileProblem: return p.message
        case let p as SheetProblem: return FileProblem(p).message
        default: return "Não foi possível ler o arquivo."
        }
    }

    /// The first 100 rows of the stored file, a spreadsheet's or a text file's.
    func preview(key: String, fileName: String) async throws -> FilePreview {
        let size = try await blobs.size(key: key)
        let head = try await blobs.read(key: key, offset: 0, length: min(size, Self.previewBytes))
        let workbook = try await SpreadsheetConversion.withLocalWorkbook(blobs: blobs, key: key, head: head, fileName: fileName) {
            workbook in try await CPUWork.run { try FilePreview.xlsx(workbook) }
        }
        return try workbook ?? FilePreview.csv(head: head, isWholeFile: size <= Self.previewBytes)
    }

    func draft(_ context: EsteiraRequestContext, _ client: ClientRecord) async throws -> (id: String, Draft)? {
        guard let id = context.parameters.get("draft"), UUID(uuidString: id) != nil else { return nil }
        guard let bytes = try? await blobs.readAll(key: Self.draftKey(clientID: client.id, draftID: id)),
              let draft = try? JSONDecoder().decode(Draft.self, from: Data(bytes)) else { return nil }
        return (id.lowercased(), draft)
    }

    /// The mapping form: the chosen column of each field, the formats, the preset's name.
    struct Choice {
        var columns: [DebtField: Int]
        var dateFormat: DateFormat
        var decimalFormat: DecimalFormat
        var preset: String
        var makeDefault: Bool
    }

    func mappingPage(draftID: String, draft: Draft, preview: FilePreview, choice: Choice, errors: [String],
                     client: ClientRecord, formats: [SavedFormat] = [], suggested: String? = nil) -> Response {
        let fields: [[String: Any]] = DebtField.allCases.map { field in
            ["key": field.rawValue, "label": field.portugueseName.prefix(1).uppercased() + field.portugueseName.dropFirst(),
             "required": field.isRequired,
             "options": preview.header.enumerated().map { i, name -> [String: Any] in
                 ["index": i, "name": name.isEmpty ? "Coluna \(i + 1)" : name, "selected": choice.columns[field] == i]
             }]
        }
        let dateLabels: [DateFormat: String] = [.auto: "Automático (DD/MM/AAAA ou AAAA-MM-DD)", .dayMonthYear: "DD/MM/AAAA",
                                                .yearMonthDay: "AAAA-MM-DD", .dayMonthYearCompact: "DDMMAAAA",
                                                .yearMonthDayCompact: "AAAAMMDD"]
        let decimalLabels: [DecimalFormat: String] = [.auto: "Automático (1234,56 ou 1234.56)", .comma: "1.234,56 (vírgula decimal)",
                                                      .dot: "1,234.56 (ponto decimal)", .impliedCents: "123456 (centavos sem separador)"]
        var values: [String: Any] = [
            "has_formats": !formats.isEmpty,
            "formats": formats.map { ["name": $0.name, "selected": $0.name == choice.preset, "suggested": $0.name == suggested] },
            "draft": draftID, "file": draft.fileName, "fields": fields, "errors": errors, "has_errors": !errors.isEmpty,
            "date_formats": DateFormat.allCases.map { ["value": $0.rawValue, "label": dateLabels[$0]!, "selected": $0 == choice.dateFormat] },
            "decimal_formats": DecimalFormat.allCases.map { ["value": $0.rawValue, "label": decimalLabels[$0]!, "selected": $0 == choice.decimalFormat] },
            "preset": choice.preset, "make_default": choice.makeDefault,
            "header": preview.header, "row_count": preview.rows.count,
            "rows": preview.rows.map { row -> [String: Any] in
                ["line": row.line, "cells": preview.header.indices.map { $0 < row.cells.count ? row.cells[$0] : "" }]
            },
        ]
        if let suggested { values["suggested"] = suggested }
        return page("mapear", title: "Mapear colunas", client: client, values,
                    status: errors.isEmpty ? .ok : .unprocessableContent)
    }

    @Sendable func mappingPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        guard let (id, draft) = try await draft(context, client) else { throw APIError.notFound("Arquivo enviado") }
        if try await BatchStore(db: db).get(id: id, clientID: client.id) != nil { return Self.redirect("/app/lotes/\(id)") }
        let preview = try await preview(key: BlobKeys.raw(clientID: client.id, batchID: id), fileName: draft.fileName)
        // A saved format the client picked, else the one whose columns this file has (the default
        // first, then the one that maps the most fields), else guesses from the header's words.
        let formats = try await ClientFormatStore(db: db).list(clientID: client.id)
        var choice = Choice(columns: ClientFormat.suggestion(header: preview.header), dateFormat: .auto, decimalFormat: .auto,
                            preset: "Formato de \(draft.fileName)", makeDefault: false)
        var errors: [String] = []
        let picked = request.uri.queryParameters["formato"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let suggested = Self.matchingFormat(formats, header: preview.header)
        if let picked {
            if let saved = formats.first(where: { $0.name == picked }) {
                switch saved.format.layout(header: preview.header) {
                case .success(let layout): choice = Choice(saved, layout)
                case .failure(let problem):
                    errors.append("O formato “\(picked)” não serve para este arquivo: \(FileProblem(problem).message)")
                }
            } else {
                errors.append("Não há formato salvo com o nome “\(picked)”.")
            }
        } else if let (saved, layout) = suggested {
            choice = Choice(saved, layout)
        }
        return mappingPage(draftID: id, draft: draft, preview: preview, choice: choice, errors: errors, client: client,
                           formats: formats, suggested: suggested?.0.name)
    }

    /// The saved format whose columns the header has: the default when it fits, else the one that
    /// maps the most fields (by name when they tie).
    static func matchingFormat(_ formats: [SavedFormat], header: [String]) -> (SavedFormat, StandardLayout)? {
        let fitting = formats.compactMap { saved -> (SavedFormat, StandardLayout)? in
            guard case .success(let layout) = saved.format.layout(header: header) else { return nil }
            return (saved, layout)
        }
        return fitting.first { $0.0.isDefault }
            ?? fitting.max { ($0.1.columns.count, $1.0.name) < ($1.1.columns.count, $0.0.name) }
    }

    @Sendable func confirm(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard let client = context.client else { return Self.redirect("/app/entrar") }
        guard let (id, draft) = try await draft(context, client) else { throw APIError.notFound("Arquivo enviado") }
        let batches = BatchStore(db: db)
        if try await batches.get(id: id, clientID: client.id) != nil { return Self.redirect("/app/lotes/\(id)") }
        let form = FormBody.parse(try await request.body.collect(atMost: 64 * 1024))
        let key = BlobKeys.raw(clientID: client.id, batchID: id)
        let header = draft.header

        var columns: [DebtField: Int] = [:]
        for field in DebtField.allCases {
            if let i = form["col_\(field.rawValue)"].flatMap({ Int($0) }), header.indices.contains(i) { columns[field] = i }
        }
        let choice = Choice(columns: columns, dateFormat: DateFormat(rawValue: form["date_format"] ?? "") ?? .auto,
                            decimalFormat: DecimalFormat(rawValue: form["decimal_format"] ?? "") ?? .auto,
                            preset: (form["preset"] ?? "").trimmingCharacters(in: .whitespaces),
                            makeDefault: form["default"] == "1")
        let format = ClientFormat(columns: columns.mapValues { header[$0] }, dateFormat: choice.dateFormat,
                                  decimalFormat: choice.decimalFormat)
        var errors = format.problems
        if errors.isEmpty, case .failure(let problem) = format.layout(header: header) {
            switch problem {
            case .duplicateColumn(let field):
                errors.append("O cabeçalho tem mais de uma coluna com o nome escolhido para \(field.portugueseName); renomeie uma delas no arquivo.")
            case .missingColumns(let fields):
                errors.append("Faltam colunas para: \(fields.map(\.portugueseName).joined(separator: ", ")).")
            case .columnNotFound(let field, let header):
                errors.append("A coluna \(header) de \(field.portugueseName) não está no arquivo.")
            }
        }
        if choice.preset.isEmpty || choice.preset.count > ClientFormatStore.maxNameLength {
            errors.append("Dê um nome de 1 a \(ClientFormatStore.maxNameLength) caracteres ao mapeamento.")
        }
        guard errors.isEmpty else {
            // Only to show the rows again beside the errors is the file read once more.
            let preview = try await preview(key: key, fileName: draft.fileName)
            return mappingPage(draftID: id, draft: draft, preview: preview, choice: choice, errors: errors, client: client)
        }

        let saved = SavedFormat(name: choice.preset, format: format, isDefault: choice.makeDefault)
        try await ClientFormatStore(db: db).save(clientID: client.id, saved)
        // The draft's file is already the batch's raw file; kept if the batch cannot be recorded,
        // so that the client can confirm again. A file sent from the pages is previewed first: the
        // batch page shows what it would do, and registers it when the client confirms.
        let batch = try await Intake(db: db, blobs: blobs, retry: retry, jobsReady: jobsReady).accept(
            Intake.Arrival(client: client, source: "web", fileName: draft.fileName, format: saved, batchID: id, dryRun: true),
            byteSize: draft.size, keepFileOnFailure: true)
        try? await blobs.delete(key: Self.draftKey(clientID: client.id, draftID: id))
        context.logger.info("batch received", metadata: ["batch_id": "\(id)", "source": "web", "bytes": "\(draft.size)",
                                                        "trace_id": "\(batch.traceID)"])
        return Self.redirect("/app/lotes/\(id)")
    }
}

/// Signs the request in from the session cookie, when it carries a live one.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    let sessions: WebSessionStore

    static func token(_ request: Request) -> String? { cookie(request, named: WebRoutes.cookie) }

    /// The value of the cookie `name`, if the request sent one that is not empty.
    static func cookie(_ request: Request, named name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces)
                if pair.hasPrefix(name + "=") {
                    let value = String(pair.dropFirst(name.count + 1))
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = Self.token(request), let client = try await sessions.client(token: token) {
            context.client = client
            context.logger[metadataKey: "client_id"] = "\(client.id)"
        }
        return try await next(request, context)
    }
}

/// An `application/x-www-form-urlencoded` body, or a query string as a GET form sends it (a
/// space as `+`, which the router's own query reading leaves as it is).
enum FormBody {
    /// Each name's value (the last, for a name sent more than once).
    static func parse(_ buffer: ByteBuffer) -> [String: String] { parse(String(buffer: buffer)) }

    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for (name, value) in pairs(text) { out[name] = value }
        return out
    }

    /// Every name and value in order: checkboxes of one name send several.
    static func pairs(_ buffer: ByteBuffer) -> [(name: String, value: String)] { pairs(String(buffer: buffer)) }

    static func pairs(_ text: String) -> [(name: String, value: String)] {
        text.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}

/// What the batch page polls (`/app/lotes/:id/estado`) to update itself: the status in Portuguese,
/// whether it is final, and the counts under the names the page shows.
struct BatchPageState: Encodable {
    var status: String
    var final: Bool
    var counts: Counts

    struct Counts: Encodable {
        var recebidas: Int
        var registradas: Int
        var alteradas: Int
        var baixadas: Int
        var duplicadas: Int
        var rejeitadas: Int
        var revisao: Int
    }
}

extension WebRoutes.Choice {
    /// A saved format's choices, on a file whose header it fits (`layout`).
    init(_ saved: SavedFormat, _ layout: StandardLayout) {
        self.init(columns: layout.columns, dateFormat: saved.format.dateFormat, decimalFormat: saved.format.decimalFormat,
                  preset: saved.name, makeDefault: saved.isDefault)
    }
}

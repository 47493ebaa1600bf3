import EsteiraBlobs
import EsteiraCore
import EsteiraRisk
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Hummingbird
import Metrics

/// `/v1/debts`: the client's registered debts, and one debt registered on its own.
struct DebtRoutes {
    let db: any SQLDatabase
    let blobs: any BlobStore
    let risk: RiskService
    /// The client's rows of the day: a single debt takes one.
    var quotas = ClientQuotas()
    var registry: DebtRegistry { DebtRegistry(db: db) }

    /// The largest body `POST /v1/debts` takes: one debt is a few hundred bytes.
    static let maxSingleDebtBytes = 64 * 1024

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("debts", use: list)
        group.get("debts.csv", use: exportCSV)
        group.post("debts", use: create)
        group.get("debts/:external_id", use: get)
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> DebtResponse {
        let client = try context.requireClient()
        let raw = context.parameters.get("external_id") ?? ""
        let externalID = raw.removingPercentEncoding ?? raw
        guard let debt = try await registry.debt(clientNum: client.num, externalID: externalID) else {
            throw APIError.notFound("Dívida")
        }
        return DebtResponse(debt)
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ListResponse<DebtResponse> {
        let client = try context.requireClient()
        let paging = try Paging(request)
        let page = try await registry.debts(clientNum: client.num, filter: try Self.filter(request), page: paging.page, perPage: paging.perPage)
        return ListResponse(page, DebtResponse.init)
    }

    /// The filters of `GET /v1/debts` and `GET /v1/debts.csv`: `document`, `status` (or
    /// `review=true`), `batch`, `due_from`/`due_to` and `registered_from`/`registered_to` (days,
    /// `AAAA-MM-DD`, both ends included; registration days in São Paulo time), `updated_since` (a
    /// moment, `2026-12-06T14:00:00Z`, or a day's start): each wrong one a 400 that names it.
    static func filter(_ request: Request) throws -> DebtFilter {
        func text(_ name: String) -> String? {
            request.uri.queryParameters[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        func day(_ name: String) throws -> Day? {
            guard let value = text(name) else { return nil }
            guard let day = Day.parseISO(value) else { throw APIError.invalidParameter(name, "use uma data AAAA-MM-DD.") }
            return day
        }
        var filter = DebtFilter()
        if let document = text("document") {
            switch TaxID.parse(document) {
            case .success(let id): filter.document = id
            case .failure: filter.impossibleDocument = true
            }
        }
        if let status = text("status") {
            guard let known = DebtStatus(rawValue: status) else {
                throw APIError.invalidParameter("status", "use um de \(DebtStatus.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            filter.status = known
        }
        switch text("review") {
        case nil, "false": break
        case "true":
            guard filter.status == nil || filter.status == .review else {
                throw APIError.invalidParameter("review", "review=true é status=review; não combine com outro status.")
            }
            filter.status = .review
        default: throw APIError.invalidParameter("review", "true ou false")
        }
        filter.batchID = text("batch")
        filter.dueFrom = try day("due_from")
        filter.dueTo = try day("due_to")
        filter.registeredFrom = try day("registered_from")
        filter.registeredTo = try day("registered_to")
        if let since = text("updated_since") {
            guard let moment = Timestamp.parse(since) ?? Day.parseISO(since)?.start(in: Day.saoPaulo) else {
                throw APIError.invalidParameter("updated_since", "use um instante (2026-12-06T14:00:00Z) ou uma data AAAA-MM-DD.")
            }
            filter.updatedSince = moment
        }
        return filter
    }

    /// The filtered portfolio as a CSV a spreadsheet opens safely (`;`, UTF-8 with a byte order
    /// mark, no cell read as a formula, amounts with a decimal comma, documents punctuated so that
    /// their leading zeros stay), streamed a slice at a time: a million debts never sit in memory.
    /// Its header's names are the standard format's, so the file can be sent back as a batch.
    @Sendable func exportCSV(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let filter = try Self.filter(request)
        let registry = self.registry
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "\u{FEFF}" + DebtCSV.header))
            var csv = DebtCSV()
            // The next slice is read (on the database's own thread) while this one is written out:
            // reading and writing each take about half of the export's time.
            func read(after: String) -> Task<SQLTextRows, any Error> {
                Task { try await registry.exportSlice(clientNum: client.num, filter: filter, after: after, limit: DebtCSV.slice) }
            }
            var next = read(after: "")
            defer { next.cancel() }
            while true {
                let slice = try await next.value
                guard slice.count > 0 else { break }
                let more = slice.count == DebtCSV.slice
                if more {
                    let last = slice.withRows { rows in
                        rows.value(rows.count - 1, DebtRegistry.ExportColumn.externalID.rawValue).map { String(decoding: $0, as: UTF8.self) }
                    }
                    next = read(after: last ?? "")
                }
                csv.bytes.removeAll(keepingCapacity: true)
                try slice.withRows { rows in
                    for i in 0..<rows.count { try csv.append(rows, i) }
                }
                try await writer.write(ByteBuffer(bytes: csv.bytes))
                if !more { break }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"carteira.csv\"",
        ], body: body)
    }

    /// One debt, judged and registered before the answer: 201 registered now; 200 the same content
    /// was registered before (idempotent); 409 the external id is registered with other content;
    /// 422 the debt breaks a rule (each problem with its field and R-code) or the risk rules reject
    /// it (K-codes, docs/risk.md). A debt the risk rules flag is registered with status `review`.
    /// Every call is kept as a batch of one record, with the body as its raw file.
    @Sendable func create(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await request.body.collect(atMost: Self.maxSingleDebtBytes, hint: "Envie uma dívida por chamada.")
        let bytes = Array(body.readableBytesView)
        let values = try SingleDebtJSON.debtFields(bytes)
        let row = ParsedRow(line: 1, values: values)
        let now = Date()
        let receivedOn = Day(now, in: Day.saoPaulo)
        let validation = DebtValidator(receivedOn: receivedOn).validate(row)
        var decision: RiskDecision?
        if case .valid(let debt) = validation {
            decision = try await risk.judge([DebtSummary(debt)], policy: risk.policy(for: client), today: receivedOn).first
        }

        let batchID = UUID().uuidString.lowercased()
        let key = BlobKeys.raw(clientID: client.id, batchID: batchID)
        try await blobs.put(key: key, bytes: bytes)
        let batch = BatchRecord(newID: batchID, client: client, source: "api_debt", fileName: nil, blobKey: key,
                                byteSize: bytes.count, receivedAt: now)
        let outcome: SingleDebtOutcome
        do {
            outcome = try await registry.registerOne(validation, risk: decision, clientNum: client.num, batch: batch,
                                                     raw: String(decoding: bytes, as: UTF8.self), dailyRows: quotas.rowsPerDay(client), now: now)
        } catch let exceeded as DailyRowsExceeded {
            try? await blobs.delete(key: key)
            throw ClientQuotas.exceeded(limit: exceeded.limit, now: now)
        } catch {
            try? await blobs.delete(key: key)
            throw error
        }
        var logger = context.logger
        logger[metadataKey: "batch_id"] = "\(batchID)"
        logger[metadataKey: "trace_id"] = "\(batch.traceID)"
        let dimensions = [("client", client.id)]
        Counter(label: MetricName.rowsReceived, dimensions: dimensions).increment()

        let response: Response
        switch outcome {
        case .created(let debt):
            Counter(label: MetricName.rowsRegistered, dimensions: dimensions).increment()
            response = try Response.json(.created, SingleDebtAnswer(debt: DebtResponse(debt), batchID: batchID, error: nil),
                                     location: "/v1/debts/\(Self.pathComponent(debt.debt.externalID))")
        case .existing(let debt):
            Counter(label: MetricName.rowsDuplicated, dimensions: dimensions).increment()
            response = try Response.json(.ok, SingleDebtAnswer(debt: DebtResponse(debt), batchID: batchID, error: nil),
                                     location: "/v1/debts/\(Self.pathComponent(debt.debt.externalID))")
        case .conflict(let existing):
            Counter(label: MetricName.rowsRejected, dimensions: dimensions).increment()
            let issue = IssueJSON(field: DebtField.externalID.rawValue, code: RejectCode.conflict.rawValue,
                                  message: "A dívida \(existing.debt.externalID) já está registrada com outro conteúdo; o registro existente foi mantido.")
            response = try Response.json(.conflict, SingleDebtAnswer(
                debt: DebtResponse(existing), batchID: batchID,
                error: ErrorJSON(code: issue.code, message: issue.message, field: issue.field, issues: [issue])), location: nil)
        case .invalid(let issues):
            Counter(label: MetricName.rowsRejected, dimensions: dimensions).increment()
            response = try Self.unprocessable(
                issues.map { IssueJSON(field: $0.field?.rawValue ?? "", code: $0.code.rawValue, message: $0.message) }, batchID: batchID)
        case .riskRejected(let reasons):
            Counter(label: MetricName.rowsRejected, dimensions: dimensions).increment()
            response = try Self.unprocessable(
                reasons.map { IssueJSON(field: $0.rule.field.rawValue, code: $0.rule.rawValue, message: $0.message) }, batchID: batchID)
        }
        logger.info("single debt", metadata: ["status": "\(response.status.code)"])
        return response
    }

    /// 422 with every problem: the first is the error's own code, message and field.
    static func unprocessable(_ list: [IssueJSON], batchID: String) throws -> Response {
        let first = list.first ?? IssueJSON(field: "", code: "invalid_debt", message: "Dívida inválida.")
        return try Response.json(.unprocessableContent, SingleDebtAnswer(
            debt: nil, batchID: batchID,
            error: ErrorJSON(code: first.code, message: first.message, field: first.field, issues: list)), location: nil)
    }

    static func pathComponent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
    }
}

/// The answer to `POST /v1/debts`: the debt (registered, or the one kept on a conflict), the batch
/// that records the call, and on 409/422 the error with every problem's field and code.
struct SingleDebtAnswer: Encodable {
    var debt: DebtResponse?
    var batchID: String
    var error: ErrorJSON?

    enum CodingKeys: String, CodingKey {
        case debt, error
        case batchID = "batch_id"
    }
}

struct ErrorJSON: Encodable {
    var code: String
    var message: String
    var field: String
    var issues: [IssueJSON]
}

struct IssueJSON: Encodable {
    var field: String
    var code: String
    var message: String
}

/// Reads the body of `POST /v1/debts` and the items of a submission as `DebtJSON` does, and
/// answers what it refuses as the API's errors.
enum SingleDebtJSON {
    static func fields(_ bytes: [UInt8]) throws -> [DebtField: String] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw APIError(.badRequest, code: "invalid_json", message: "O corpo não é JSON válido: \(error.reason) (byte \(error.offset)).")
        }
        guard let members = value.members else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: "O corpo deve ser um objeto JSON com os campos da dívida (external_id, name, document, amount, due_date).")
        }
        switch DebtJSON.fields(members) {
        case .success(let values): return values
        case .failure(let problem):
            // A value the rules refuse (an R-code) is the debt's problem, answered as validation's
            // problems are; anything else is the body's.
            guard let field = problem.field else {
                throw APIError(.badRequest, code: problem.code, message: problem.message)
            }
            throw APIError(.unprocessableContent, code: problem.code, message: problem.message, field: field.rawValue,
                           issues: [.init(field: field.rawValue, code: problem.code, message: problem.message)])
        }
    }

    /// The fields of one debt sent to `POST /v1/debts` or `PATCH /v1/debts/{id}`: the route is the
    /// operation, so the file's operation and withdrawal-reason columns are not among its fields.
    static func debtFields(_ bytes: [UInt8]) throws -> [DebtField: String] {
        let values = try fields(bytes)
        for field in [DebtField.operation, .withdrawalReason] where values[field] != nil { throw operationNotHere(field) }
        return values
    }

    static func operationNotHere(_ field: DebtField) -> APIError {
        APIError(.badRequest, code: "unknown_field",
                 message: "O campo \(field.rawValue) não cabe aqui: inclua com POST /v1/debts, corrija com PATCH /v1/debts/{external_id} "
                     + "e dê baixa com POST /v1/debts/{external_id}/withdrawal.")
    }

    /// The items of a JSON list of debts: each one's fields, or why it does not have a debt's shape.
    static func items(_ bytes: [UInt8]) throws -> [Result<[DebtField: String], DebtJSON.ShapeProblem>] {
        guard let list = (try? JSONValue.parse(bytes))?.elements else {
            throw APIError(.badRequest, code: "invalid_json", message: "O corpo deve ser uma lista JSON de dívidas.")
        }
        return list.map { item in
            guard let members = item.members else {
                return .failure(DebtJSON.ShapeProblem(key: "", code: "invalid_json", message: "O item não é um objeto JSON."))
            }
            return DebtJSON.fields(members)
        }
    }
}

/// The lines of `GET /v1/debts.csv`, written as bytes: a million debts are a million lines, and
/// building a String per cell cost more than reading them.
struct DebtCSV {
    /// Debts read per query: large enough that the queries cost little beside the rows, small
    /// enough that a slice's text is a few megabytes.
    static let slice = 5_000

    static let header = "external_id;nome;cpf_cnpj;valor;pago;em_aberto;vencimento;situacao;email;telefone;descricao;lote;linha;registrada_em\r\n"

    /// The status as the client's spreadsheet shows it.
    static func statusText(_ status: String) -> String {
        DebtStatus(rawValue: status)?.portugueseName ?? status
    }

    var bytes: [UInt8] = []
    /// São Paulo's offset from UTC by hour, looked up once per hour the rows fall in.
    var offsets: [Int: Int] = [:]

    /// A cell made safe for a spreadsheet (`SpreadsheetCSV.appendCell`).
    mutating func cell(_ utf8: UnsafeBufferPointer<UInt8>?) {
        SpreadsheetCSV.appendCell(utf8, to: &bytes)
    }

    mutating func plain(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// A non-negative number, zero-padded to `width`: its digits written backwards on the stack.
    mutating func digits(_ n: Int, width: Int = 1) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buffer in
            var i = buffer.count, rest = n
            repeat {
                i -= 1
                buffer[i] = UInt8(48 + rest % 10)
                rest /= 10
            } while rest > 0
            while buffer.count - i < width {
                i -= 1
                buffer[i] = 48
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i...]))
        }
    }

    /// `1234,56`: what a Brazilian spreadsheet reads as a number.
    mutating func amount(_ cents: Int64) {
        if cents < 0 { bytes.append(UInt8(ascii: "-")) }
        let m = Int(cents.magnitude)
        digits(m / 100)
        bytes.append(UInt8(ascii: ","))
        digits(m % 100, width: 2)
    }

    mutating func day(_ d: Day) {
        digits(d.day, width: 2); bytes.append(UInt8(ascii: "/"))
        digits(d.month, width: 2); bytes.append(UInt8(ascii: "/"))
        digits(d.year, width: 4)
    }

    /// `06/12/2026 14:03:00`, São Paulo time, of a moment `utc` seconds after 1970.
    mutating func moment(utc: Int) {
        let hour = utc >= 0 ? utc / 3600 : (utc - 3599) / 3600
        let offset = offsets[hour] ?? {
            let o = Day.saoPaulo.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(hour * 3600)))
            offsets[hour] = o
            return o
        }()
        let local = utc + offset
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let ofDay = local - days * 86_400
        day(Day(daysSinceEpoch: days))
        bytes.append(UInt8(ascii: " "))
        digits(ofDay / 3600, width: 2); bytes.append(UInt8(ascii: ":"))
        digits(ofDay / 60 % 60, width: 2); bytes.append(UInt8(ascii: ":"))
        digits(ofDay % 60, width: 2)
    }

    /// Written as people write it (`248.438.034-80`, `12.ABC.345/01DE-35`), so that a spreadsheet
    /// keeps the leading zeros the bare digits would lose.
    mutating func document(_ v: UnsafeBufferPointer<UInt8>) {
        let cpf = v.count == 11, cnpj = v.count == 14
        for (i, b) in v.enumerated() {
            if cpf, i == 3 || i == 6 { bytes.append(UInt8(ascii: ".")) }
            if cpf, i == 9 { bytes.append(UInt8(ascii: "-")) }
            if cnpj, i == 2 || i == 5 { bytes.append(UInt8(ascii: ".")) }
            if cnpj, i == 8 { bytes.append(UInt8(ascii: "/")) }
            if cnpj, i == 12 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(b)
        }
    }

    /// The digits of `b[range]` (with a leading `-`) as a number; nil if anything else is there.
    static func number(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.upperBound <= b.count else { return nil }
        var v = 0, i = range.lowerBound
        let negative = b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < range.upperBound else { return nil }
        while i < range.upperBound {
            let c = b[i]
            guard c >= 48 && c <= 57 else { return nil }
            v = v &* 10 &+ Int(c - 48)
            i += 1
        }
        return negative ? -v : v
    }

    /// Row `i` of `exportSlice`'s rows, as stored: integers as digits, the due day `AAAA-MM-DD`,
    /// the moment of registration as `Timestamp.iso` wrote it in UTC. A value in any other shape
    /// is an error, not a cell written wrong.
    mutating func append(_ rows: SQLTextRows.View, _ i: Int) throws {
        typealias C = DebtRegistry.ExportColumn
        func value(_ c: C) -> UnsafeBufferPointer<UInt8>? { rows.value(i, c.rawValue) }
        func text(_ c: C) throws -> UnsafeBufferPointer<UInt8> {
            guard let v = value(c) else { throw CSVExportError(column: c, row: i) }
            return v
        }
        func integer(_ c: C) throws -> Int {
            let v = try text(c)
            guard let n = Self.number(v, 0..<v.count) else { throw CSVExportError(column: c, row: i) }
            return n
        }
        let separator = UInt8(ascii: ";")
        cell(try text(.externalID)); bytes.append(separator)
        cell(try text(.name)); bytes.append(separator)
        document(try text(.document)); bytes.append(separator)
        let amount = try integer(.amountCents), paid = try integer(.paidCents)
        self.amount(Int64(amount)); bytes.append(separator)
        self.amount(Int64(paid)); bytes.append(separator)
        self.amount(Int64(max(0, amount - paid))); bytes.append(separator)
        let due = try text(.dueDate)
        guard due.count == 10, due[4] == UInt8(ascii: "-"), due[7] == UInt8(ascii: "-") else { throw CSVExportError(column: .dueDate, row: i) }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: due[8..<10])); bytes.append(UInt8(ascii: "/"))
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: due[5..<7])); bytes.append(UInt8(ascii: "/"))
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: due[0..<4])); bytes.append(separator)
        plain(Self.statusText(String(decoding: try text(.status), as: UTF8.self))); bytes.append(separator)
        cell(value(.email)); bytes.append(separator)
        cell(value(.phone)); bytes.append(separator)
        cell(value(.description)); bytes.append(separator)
        bytes.append(contentsOf: try text(.batchID)); bytes.append(separator)
        _ = try integer(.line)
        bytes.append(contentsOf: try text(.line)); bytes.append(separator)
        // `AAAA-MM-DDTHH:MM:SS`, then the fraction and the zone, which Timestamp.iso writes as Z.
        let at = try text(.createdAt)
        guard at.count >= 20, at[10] == UInt8(ascii: "T"), at[13] == UInt8(ascii: ":"), at[16] == UInt8(ascii: ":"), at.last == UInt8(ascii: "Z"),
              let date = Day(digitsOf: at, day: 8..<10, month: 5..<7, year: 0..<4),
              let h = Self.number(at, 11..<13), let m = Self.number(at, 14..<16), let sec = Self.number(at, 17..<19) else {
            throw CSVExportError(column: .createdAt, row: i)
        }
        moment(utc: date.daysSinceEpoch * 86_400 + h * 3600 + m * 60 + sec)
        bytes.append(13); bytes.append(10)
    }
}

/// A stored value the export does not know how to read: the export stops rather than write it wrong.
struct CSVExportError: Error, CustomStringConvertible {
    var column: DebtRegistry.ExportColumn
    var row: Int
    var description: String { "the export cannot read column \(column) of row \(row) of its slice" }
}

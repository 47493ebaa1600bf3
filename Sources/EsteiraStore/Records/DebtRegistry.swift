import EsteiraCore
import Foundation

public struct DebtRecord: Sendable, Equatable {
    public var debt: Debt
    public var batchID: String
    public var line: Int
    /// `registered`, or `review` when the risk rules flagged it.
    public var status: String
    public var createdAt: Date
    /// Why the risk rules flagged it, when they did.
    public var review: DebtReview?
    /// What was paid on it so far (reversed payments not counted).
    public var paidCents: Int64 = 0
}

/// Which of a client's debts a listing or an export wants; nil is any.
public struct DebtFilter: Sendable, Equatable {
    public var document: TaxID?
    /// A document was asked for that is no valid CPF or CNPJ: no debt has it.
    public var impossibleDocument = false
    public var status: DebtStatus?
    public var batchID: String?
    public var dueFrom: Day?
    public var dueTo: Day?
    /// Registered from the start of this day, to the end of that one (São Paulo days).
    public var registeredFrom: Day?
    public var registeredTo: Day?
    /// Registered or changed (any event of its history) at or after this moment.
    public var updatedSince: Date?

    public init() {}

    /// The conditions on `d` (debts), after `WHERE d.client_num = …`.
    var sql: SQL {
        var parts: [SQL] = []
        // The index holds the document's key; the text is compared too.
        if impossibleDocument { parts.append("AND 1 = 0") }
        if let document { parts.append("AND d.doc_key = \(document.indexKey) AND d.document = \(document.value)") }
        if let status { parts.append("AND d.status = \(status.rawValue)") }
        if let batchID { parts.append("AND d.batch_id = \(batchID)") }
        if let dueFrom { parts.append("AND d.due_date >= \(dueFrom)") }
        if let dueTo { parts.append("AND d.due_date <= \(dueTo)") }
        if let registeredFrom { parts.append("AND d.created_at >= \(registeredFrom.start(in: Day.saoPaulo))") }
        if let registeredTo { parts.append("AND d.created_at < \(registeredTo.adding(days: 1).start(in: Day.saoPaulo))") }
        if let updatedSince {
            // Every change after registration is an event of the debt's history (docs/portfolio.md);
            // a slip issued is one of its own rows.
            parts.append("""
                AND (d.created_at >= \(updatedSince) OR EXISTS (SELECT 1 FROM debt_events e WHERE e.client_num = d.client_num
                     AND e.external_id = d.external_id AND e.at >= \(updatedSince)))
                """)
        }
        var sql: SQL = ""
        for part in parts { sql = "\(sql) \(part)" }
        return sql
    }
}

/// The risk rules' score and reasons for a debt flagged for review.
public struct DebtReview: Sendable, Equatable {
    public var score: Int
    public var reasons: [RiskReason]

    public init(score: Int, reasons: [RiskReason]) {
        self.score = score
        self.reasons = reasons
    }
}

/// A debt offered to the registry: its line in the file, and the risk rules' review when they
/// flagged it (nil when they approved it).
public struct DebtCandidate: Sendable {
    public var debt: Debt
    public var line: Int
    public var review: DebtReview?

    public init(debt: Debt, line: Int, review: DebtReview? = nil) {
        self.debt = debt
        self.line = line
        self.review = review
    }
}

public struct RejectRecord: Sendable, Equatable {
    public var line: Int
    public var field: String
    public var code: String
    public var message: String
    public var raw: String

    public init(line: Int, field: String, code: String, message: String, raw: String) {
        self.line = line
        self.field = field
        self.code = code
        self.message = message
        self.raw = raw
    }
}

/// Debts as rows of the registry, and the columns they fill.
public struct DebtRows: Sendable {
    public var columns: [String]
    public var rows: SQLRows

    /// The rows as the database will want them, made now (see `SQLRows.prepared(for:)`).
    public func prepared(for dialect: SQLDialect) -> DebtRows {
        DebtRows(columns: columns, rows: rows.prepared(for: dialect))
    }
}

/// The registry of debts, unique per (client, external_id), and the reject records of batches.
public struct DebtRegistry: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "external_id, name, document, amount_cents, due_date, email, phone, description, batch_id, line, status, created_at"
    /// The columns of a debt read with its review (`d`: debts, `r`: debt_reviews).
    static let reviewedColumns = """
        d.external_id, d.name, d.document, d.amount_cents, d.due_date, d.email, d.phone, d.description, d.batch_id, d.line,
        d.status, d.created_at, d.paid_cents, r.score AS review_score, r.reasons AS review_reasons
        """
    static let reviewedFrom = "debts d LEFT JOIN debt_reviews r ON r.client_num = d.client_num AND r.external_id = d.external_id"

    static func record(_ r: SQLRow) throws -> DebtRecord {
        let document = try r.string("document")
        guard let id = TaxID.stored(document) else {
            throw SQLError(code: .decode, message: "registry holds an invalid document", sql: "")
        }
        return DebtRecord(
            debt: Debt(externalID: try r.string("external_id"), name: try r.string("name"), document: id,
                       amountCents: Int64(try r.int("amount_cents")), dueDate: try r.day("due_date"),
                       email: try r.optionalString("email"), phone: try r.optionalString("phone"),
                       description: try r.optionalString("description")),
            batchID: try r.string("batch_id"), line: try r.int("line"), status: try r.string("status"),
            createdAt: try r.date("created_at"), review: nil)
    }

    static func reviewedRecord(_ r: SQLRow) throws -> DebtRecord {
        var rec = try record(r)
        rec.paidCents = Int64(try r.int("paid_cents"))
        if let reasons = try r.optionalString("review_reasons") {
            rec.review = DebtReview(score: try r.int("review_score"),
                                    reasons: try JSONDecoder().decode([RiskReason].self, from: Data(reasons.utf8)))
        }
        return rec
    }

    /// The debts registered under these external ids, inside the caller's transaction.
    public static func existing(_ c: any SQLConnection, clientNum: Int, externalIDs: [String]) async throws -> [String: Debt] {
        try await standing(c, clientNum: clientNum, externalIDs: externalIDs).mapValues(\.debt)
    }

    /// The debts registered under these external ids as the portfolio's rules see them, with their
    /// status and what was paid.
    public static func standing(_ c: any SQLConnection, clientNum: Int, externalIDs: [String]) async throws
        -> [String: RegisteredDebt] {
        var out: [String: RegisteredDebt] = [:]
        var start = 0
        while start < externalIDs.count {
            let ids = Array(externalIDs[start..<min(start + 500, externalIDs.count)])
            for r in try await c.query("""
                SELECT \(raw: columns), paid_cents FROM debts WHERE client_num = \(clientNum) AND external_id IN (\(list: ids))
                """) {
                let rec = try record(r)
                out[rec.debt.externalID] = RegisteredDebt(debt: rec.debt, status: try r.known("status", as: DebtStatus.self),
                                                          paidCents: Int64(try r.int("paid_cents")))
            }
            start += 500
        }
        return out
    }

    /// The rows `insertNew` writes, built before the write transaction so that the single writer
    /// is held only for the inserts themselves. `stamp` is the moment written in `created_at`; nil
    /// leaves it to the column's default, the transaction's start (PostgreSQL only, see
    /// `batchStamp`).
    public static func rows(clientNum: Int, batchID: String, debts: [DebtCandidate], stamp: Date?) -> DebtRows {
        rows(clientNum: clientNum, batchID: batchID, debts: debts.map(\.debt),
             picks: debts.indices.map { (index: $0, line: debts[$0].line, review: debts[$0].review) }, stamp: stamp)
    }

    /// The rows of `debts[pick.index]` for each pick, in order, made as they are written: a
    /// sub-batch's debts are offered where they were decoded, without copying each first.
    public static func rows(clientNum: Int, batchID: String, debts: [Debt], picks: [(index: Int, line: Int, review: DebtReview?)],
                            stamp: Date?) -> DebtRows {
        let client = Int64(clientNum)
        var columns = Self.rowColumns
        if stamp != nil { columns.append("created_at") }
        return DebtRows(columns: columns, rows: SQLRows(count: picks.count) { i, row in
            let pick = picks[i]
            write(debts[pick.index], client: client, status: status(flagged: pick.review != nil), batchID: batchID,
                  line: pick.line, into: &row)
            if let stamp { row.append(.timestamp(stamp)) }
        })
    }

    /// The rows of a sub-batch's staged debts for each pick, in order, as the database will want
    /// them (see `SQLRows.prepared(for:)`). On PostgreSQL each row, in the binary format of `COPY`,
    /// is the staged registry row with the client before it and the status, batch and line after
    /// it, copied as it is (`StagingCodec`); a debt is read whole only if the rows are wanted one by
    /// one, as the insert does when a key is taken. Elsewhere the debts are read whole and written
    /// as values.
    public static func rows(clientNum: Int, batchID: String, staged: StagedSubBatch,
                            picks: [(index: Int, line: Int, review: DebtReview?)], stamp: Date?, dialect: SQLDialect) -> DebtRows {
        guard dialect == .postgres, stamp == nil else {
            return rows(clientNum: clientNum, batchID: batchID, debts: staged.debts, picks: picks, stamp: stamp).prepared(for: dialect)
        }
        let client = Int64(clientNum)
        var rows = SQLRows(count: picks.count) { i, row in
            let pick = picks[i]
            write(staged.debt(pick.index), client: client, status: status(flagged: pick.review != nil),
                  batchID: batchID, line: pick.line, into: &row)
        }
        // What comes before a staged row (the field count and the client) and after it (the status
        // and the batch, then the line) is the same for every row but the status and the line.
        var before: [UInt8] = []
        CopyBinary.appendFieldCount(rowColumns.count, to: &before)
        CopyBinary.appendInt64(client, to: &before)
        func after(flagged: Bool) -> [UInt8] {
            var bytes: [UInt8] = []
            var text = status(flagged: flagged)
            text.withUTF8 { CopyBinary.appendText($0, to: &bytes) }
            var id = batchID
            id.withUTF8 { CopyBinary.appendText($0, to: &bytes) }
            return bytes
        }
        let registered = after(flagged: false), flagged = after(flagged: true)
        var data = CopyBinary.header
        data.reserveCapacity(picks.count * 200)
        for pick in picks {
            data.append(contentsOf: before)
            staged.withRow(pick.index) { data.append(contentsOf: $0) }
            data.append(contentsOf: pick.review == nil ? registered : flagged)
            CopyBinary.appendInt64(Int64(pick.line), to: &data)
        }
        data.append(contentsOf: CopyBinary.trailer)
        rows.copyData = CopyData(binary: data)
        return DebtRows(columns: rowColumns, rows: rows)
    }

    /// The registry's columns a batch writes, in the order both ways of making its rows write them:
    /// the staged registry row's (`StagingCodec.rowColumns`) between the client and the rest.
    static let rowColumns = ["client_num"] + StagingCodec.rowColumns + ["status", "batch_id", "line"]

    /// A new debt's status: flagged for review by the risk rules, or registered.
    static func status(flagged: Bool) -> String { flagged ? "review" : "registered" }

    /// One debt's row, in `rowColumns`' order.
    static func write(_ debt: Debt, client: Int64, status: String, batchID: String, line: Int, into row: inout SQLRowWriter) {
        row.int(client)
        row.text(debt.externalID)
        row.text(debt.name)
        row.text(debt.document.value)
        row.int(debt.amountCents)
        row.day(debt.dueDate)
        row.text(debt.email)
        row.text(debt.phone)
        row.text(debt.description)
        row.int(debt.document.indexKey)
        row.text(status)
        row.text(batchID)
        row.int(Int64(line))
    }

    /// The `created_at` of a batch's debts on this database: nil on PostgreSQL, whose column
    /// defaults to the transaction's start (migration 0017), as reading a timestamp's text in every
    /// row of a `COPY` cost more than the rest of the row; now on SQLite, whose column has no default.
    public static func batchStamp(for dialect: SQLDialect) -> Date? {
        dialect == .postgres ? nil : Date()
    }

    /// Keeps the reviews of debts just inserted flagged, in the caller's transaction.
    public static func insertReviews(_ c: any SQLConnection, clientNum: Int, reviews: [(externalID: String, review: DebtReview)],
                                     now: Date = Date()) async throws {
        guard !reviews.isEmpty else { return }
        let encoder = JSONEncoder()
        let rows: [[SQLValue]] = try reviews.map {
            [.int(Int64(clientNum)), .text($0.externalID), .int(Int64($0.review.score)),
             .text(String(decoding: try encoder.encode($0.review.reasons), as: UTF8.self)), .timestamp(now)]
        }
        try await c.insert(into: "debt_reviews", columns: ["client_num", "external_id", "score", "reasons", "created_at"], rows: rows)
    }

    /// Inserts debts that are not registered yet (rows made by `rows`); returns, for each, whether it
    /// went in (another transaction may have registered the same external id first).
    public static func insertNew(_ c: any SQLConnection, rows: DebtRows) async throws -> [Bool] {
        try await c.insert(into: "debts", columns: rows.columns, rows: rows.rows, ignoringConflictsOn: ["client_num", "external_id"])
    }

    public static func insertRejects(_ c: any SQLConnection, batchID: String, rejects: [RejectRecord], now: Date = Date()) async throws {
        let rows: [[SQLValue]] = rejects.map {
            [.text(batchID), .int(Int64($0.line)), .text($0.field), .text($0.code), .text($0.message), .text($0.raw), .timestamp(now)]
        }
        try await c.insert(into: "rejects", columns: ["batch_id", "line", "field", "code", "message", "raw", "created_at"], rows: rows)
    }

    public func debt(clientNum: Int, externalID: String) async throws -> DebtRecord? {
        try await db.query("""
            SELECT \(raw: DebtRegistry.reviewedColumns) FROM \(raw: DebtRegistry.reviewedFrom)
            WHERE d.client_num = \(clientNum) AND d.external_id = \(externalID)
            """).first.map(DebtRegistry.reviewedRecord)
    }

    /// The client's debts by external id, those `filter` wants.
    public func debts(clientNum: Int, filter: DebtFilter, page: Int, perPage: Int) async throws -> Page<DebtRecord> {
        try await db.page(select: DebtRegistry.reviewedColumns,
                          from: "\(raw: DebtRegistry.reviewedFrom) WHERE d.client_num = \(clientNum) \(filter.sql)",
                          orderBy: "d.external_id", page: page, perPage: perPage, DebtRegistry.reviewedRecord)
    }

    /// The columns of `exportSlice`, in its order.
    public enum ExportColumn: Int, CaseIterable {
        case externalID, name, document, amountCents, paidCents, dueDate, status, email, phone, description, batchID, line, createdAt
    }

    /// The next `limit` debts `filter` wants after the external id `after`, for an export: their
    /// columns (`ExportColumn`) as the text they are stored as, without a value made for each.
    public func exportSlice(clientNum: Int, filter: DebtFilter, after: String, limit: Int) async throws -> SQLTextRows {
        try await db.queryText("""
            SELECT d.external_id, d.name, d.document, d.amount_cents, d.paid_cents, d.due_date, d.status, d.email, d.phone,
                   d.description, d.batch_id, d.line, d.created_at
            FROM debts d WHERE d.client_num = \(clientNum) AND d.external_id > \(after) \(filter.sql)
            ORDER BY d.external_id LIMIT \(limit)
            """)
    }

    static func reject(_ r: SQLRow) throws -> RejectRecord {
        RejectRecord(line: try r.int("line"), field: try r.string("field"), code: try r.string("code"),
                     message: try r.string("message"), raw: try r.string("raw"))
    }

    public func rejects(batchID: String, page: Int, perPage: Int) async throws -> Page<RejectRecord> {
        try await db.page(select: "line, field, code, message, raw", from: "rejects WHERE batch_id = \(batchID)",
                          orderBy: "line, id", page: page, perPage: perPage, DebtRegistry.reject)
    }

    /// The batch's reject report (`SpreadsheetCSV.rejectLine`, in line order), handed to `write` a
    /// page of text at a time however many rejects there are: the API's `rejects.csv` and the drop
    /// folder's return file write the same.
    public func rejectReport(batchID: String, _ write: (String) async throws -> Void) async throws {
        var cursor = (line: 0, id: 0)
        while true {
            let page = try await rejects(batchID: batchID, after: cursor, limit: 2000)
            guard let last = page.last else { return }
            try await write(page.map { r, _ in
                SpreadsheetCSV.rejectLine(line: r.line, field: r.field, code: r.code, message: r.message, raw: r.raw)
            }.joined())
            cursor = (last.0.line, last.id)
        }
    }

    /// Rejects in line order after a given (line, id) position, for streaming a report in pages.
    public func rejects(batchID: String, after cursor: (line: Int, id: Int), limit: Int) async throws -> [(RejectRecord, id: Int)] {
        try await db.query("""
            SELECT id, line, field, code, message, raw FROM rejects WHERE batch_id = \(batchID)
              AND (line > \(cursor.line) OR (line = \(cursor.line) AND id > \(cursor.id)))
            ORDER BY line, id LIMIT \(limit)
            """).map { (try DebtRegistry.reject($0), id: try $0.int("id")) }
    }
}

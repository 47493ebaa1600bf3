import EsteiraCore
import Foundation

public struct DebtRecord: Sendable, Equatable {
    public var debt: Debt
    public var batchID: String
    public var line: Int
    public var status: String
    public var createdAt: Date
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

/// The registry of debts, unique per (client, external_id), and the reject records of batches.
public struct DebtRegistry: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "external_id, name, document, amount_cents, due_date, email, phone, description, batch_id, line, status, created_at"

    static func record(_ r: SQLRow) throws -> DebtRecord {
        let document = try r.string("document")
        guard case .success(let id) = TaxID.validate(normalized: document) else {
            throw SQLError(code: .decode, message: "registry holds an invalid document", sql: "")
        }
        return DebtRecord(
            debt: Debt(externalID: try r.string("external_id"), name: try r.string("name"), document: id,
                       amountCents: Int64(try r.int("amount_cents")), dueDate: try r.day("due_date"),
                       email: try r.optionalString("email"), phone: try r.optionalString("phone"),
                       description: try r.optionalString("description")),
            batchID: try r.string("batch_id"), line: try r.int("line"), status: try r.string("status"),
            createdAt: try r.date("created_at"))
    }

    /// The debts registered under these external ids, inside the caller's transaction.
    public static func existing(_ c: any SQLConnection, clientNum: Int, externalIDs: [String]) async throws -> [String: Debt] {
        var out: [String: Debt] = [:]
        let chunk = 500
        var start = 0
        while start < externalIDs.count {
            let ids = Array(externalIDs[start..<min(start + chunk, externalIDs.count)])
            for r in try await c.query("""
                SELECT \(raw: columns) FROM debts WHERE client_num = \(clientNum) AND external_id IN (\(list: ids))
                """) {
                let rec = try record(r)
                out[rec.debt.externalID] = rec.debt
            }
            start += chunk
        }
        return out
    }

    /// The rows `insertNew` writes, built before the write transaction so that the single writer
    /// is held only for the inserts themselves.
    public static func rows(clientNum: Int, batchID: String, debts: [(debt: Debt, line: Int)],
                            now: Date = Date()) -> [[SQLValue]] {
        let client = SQLValue.int(Int64(clientNum)), batch = SQLValue.text(batchID)
        let status = SQLValue.text("registered"), created = SQLValue.timestamp(now)
        return debts.map { d, line in
            [client, .text(d.externalID), .text(d.name), .text(d.document.value),
             .int(d.amountCents), .day(d.dueDate), d.email.sqlValue, d.phone.sqlValue, d.description.sqlValue,
             status, batch, .int(Int64(line)), created]
        }
    }

    /// Inserts debts that are not registered yet (rows made by `rows`); returns, for each, whether it
    /// went in (another transaction may have registered the same external id first).
    public static func insertNew(_ c: any SQLConnection, rows: [[SQLValue]]) async throws -> [Bool] {
        try await c.insert(
            into: "debts",
            columns: ["client_num", "external_id", "name", "document", "amount_cents", "due_date", "email",
                      "phone", "description", "status", "batch_id", "line", "created_at"],
            rows: rows,
            ignoringConflictsOn: ["client_num", "external_id"])
    }

    public static func insertRejects(_ c: any SQLConnection, batchID: String, rejects: [RejectRecord], now: Date = Date()) async throws {
        let rows: [[SQLValue]] = rejects.map {
            [.text(batchID), .int(Int64($0.line)), .text($0.field), .text($0.code), .text($0.message), .text($0.raw), .timestamp(now)]
        }
        try await c.insert(into: "rejects", columns: ["batch_id", "line", "field", "code", "message", "raw", "created_at"], rows: rows)
    }

    public func debt(clientNum: Int, externalID: String) async throws -> DebtRecord? {
        try await db.query("""
            SELECT \(raw: DebtRegistry.columns) FROM debts WHERE client_num = \(clientNum) AND external_id = \(externalID)
            """).first.map(DebtRegistry.record)
    }

    public func debts(clientNum: Int, document: String?, page: Int, perPage: Int) async throws -> Page<DebtRecord> {
        let filter: SQL = document.map { "AND document = \(TaxID.normalize($0[...]))" } ?? ""
        return try await db.page(select: DebtRegistry.columns, from: "debts WHERE client_num = \(clientNum) \(filter)",
                                 orderBy: "external_id", page: page, perPage: perPage, DebtRegistry.record)
    }

    static func reject(_ r: SQLRow) throws -> RejectRecord {
        RejectRecord(line: try r.int("line"), field: try r.string("field"), code: try r.string("code"),
                     message: try r.string("message"), raw: try r.string("raw"))
    }

    public func rejects(batchID: String, page: Int, perPage: Int) async throws -> Page<RejectRecord> {
        try await db.page(select: "line, field, code, message, raw", from: "rejects WHERE batch_id = \(batchID)",
                          orderBy: "line, id", page: page, perPage: perPage, DebtRegistry.reject)
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

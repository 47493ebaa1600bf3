import EsteiraCore
import Foundation

public struct SubmissionRecord: Sendable, Equatable {
    public enum Status: String, Sendable {
        case open, submitted, expired
    }

    public var id: String
    public var clientID: String
    public var status: Status
    public var lines: Int
    public var batchID: String?
    public var createdAt: Date
    public var expiresAt: Date
}

/// Submissions: debts sent as JSON lines (`POST /v1/submissions/{id}/debts`), kept as standard CSV
/// records in arrival order until the submit turns them into one file and a batch. An open
/// submission past its `expires_at` takes nothing more and is swept.
public struct SubmissionStore: Sendable {
    let db: any SQLDatabase

    public init(db: any SQLDatabase) { self.db = db }

    static let columns = "id, client_id, status, lines, batch_id, created_at, expires_at"

    static func record(_ r: SQLRow) throws -> SubmissionRecord {
        SubmissionRecord(id: try r.string("id"), clientID: try r.string("client_id"),
                         status: try r.known("status", as: SubmissionRecord.Status.self),
                         lines: try r.int("lines"), batchID: try r.optionalString("batch_id"),
                         createdAt: try r.date("created_at"), expiresAt: try r.date("expires_at"))
    }

    /// Opens a submission; first marks expired the open ones past their time and drops their lines.
    public func open(clientID: String, ttl: TimeInterval, now: Date = Date()) async throws -> SubmissionRecord {
        let record = SubmissionRecord(id: UUID().uuidString.lowercased(), clientID: clientID, status: .open, lines: 0,
                                      batchID: nil, createdAt: now, expiresAt: now.addingTimeInterval(ttl))
        try await sweep(now: now)
        try await db.write { c in
            try await c.execute("""
                INSERT INTO submissions (id, client_id, status, lines, created_at, expires_at, updated_at)
                VALUES (\(record.id), \(clientID), 'open', 0, \(now), \(record.expiresAt), \(now))
                """)
        }
        return record
    }

    /// The submission if it belongs to the client; an open one past its time reads as expired.
    public func get(id: String, clientID: String, now: Date = Date()) async throws -> SubmissionRecord? {
        guard var record = try await db.query("""
            SELECT \(raw: SubmissionStore.columns) FROM submissions WHERE id = \(id) AND client_id = \(clientID)
            """).first.map(SubmissionStore.record) else { return nil }
        if record.status == .open && record.expiresAt <= now { record.status = .expired }
        return record
    }

    public enum AppendError: Error, Equatable {
        case notFound
        case notOpen(SubmissionRecord.Status)
        case tooManyLines(limit: Int)
    }

    /// Adds CSV records after those already there, all or none. Returns the submission's line count after.
    public func append(id: String, clientID: String, lines: [String], maxLines: Int, now: Date = Date()) async throws -> Int {
        try await db.write { c in
            guard let row = try await c.query("""
                SELECT \(raw: SubmissionStore.columns) FROM submissions WHERE id = \(id) AND client_id = \(clientID)\(c.forUpdate)
                """).first else { throw AppendError.notFound }
            let record = try SubmissionStore.record(row)
            guard record.status == .open, record.expiresAt > now else {
                throw AppendError.notOpen(record.status == .open ? .expired : record.status)
            }
            guard record.lines + lines.count <= maxLines else { throw AppendError.tooManyLines(limit: maxLines) }
            let rows: [[SQLValue]] = lines.enumerated().map { [.text(id), .int(Int64(record.lines + $0.offset)), .text($0.element)] }
            try await c.insert(into: "submission_lines", columns: ["submission_id", "seq", "line"], rows: rows)
            let total = record.lines + lines.count
            try await c.execute("UPDATE submissions SET lines = \(total), updated_at = \(now) WHERE id = \(id)")
            return total
        }
    }

    /// The records in order, `limit` at a time after position `after`.
    public func lines(id: String, after: Int, limit: Int) async throws -> [(seq: Int, line: String)] {
        try await db.query("""
            SELECT seq, line FROM submission_lines WHERE submission_id = \(id) AND seq > \(after) ORDER BY seq LIMIT \(limit)
            """).map { (try $0.int("seq"), try $0.string("line")) }
    }

    /// Inside the transaction that creates the submission's batch: marks it submitted and drops its
    /// lines (the file in the blob store is now their record). Throws `notOpen` when another
    /// submit, or the clock, got there first.
    public static func markSubmitted(_ c: any SQLConnection, id: String, batchID: String, now: Date = Date()) async throws {
        let changed = try await c.execute("""
            UPDATE submissions SET status = 'submitted', batch_id = \(batchID), updated_at = \(now)
            WHERE id = \(id) AND status = 'open' AND expires_at > \(now)
            """)
        guard changed == 1 else { throw AppendError.notOpen(.submitted) }
        try await c.execute("DELETE FROM submission_lines WHERE submission_id = \(id)")
    }

    /// Marks expired the open submissions past their time and drops their lines.
    public func sweep(now: Date = Date()) async throws {
        try await db.write { c in
            try await c.execute("""
                DELETE FROM submission_lines WHERE submission_id IN
                    (SELECT id FROM submissions WHERE status = 'open' AND expires_at <= \(now))
                """)
            try await c.execute("UPDATE submissions SET status = 'expired', updated_at = \(now) WHERE status = 'open' AND expires_at <= \(now)")
        }
    }
}

import EsteiraCore
import Foundation
import NIOCore
import PostgresNIO

/// How many rows at once reach PostgreSQL. `copy` (the default) streams them with `COPY … FROM
/// STDIN`; `statements` sends multi-row `INSERT … VALUES` statements. docs/benchmarks.md has the
/// measurement that chose `copy`; `ESTEIRA_PG_BULK_WRITES=statements` brings the other back.
public enum PostgresBulkWrites: String, Sendable {
    case copy
    case statements
}

extension PostgresSQLConnection {
    /// The savepoint that an optimistic `COPY` into a table with a unique key rolls back to.
    static let bulkSavepoint = "esteira_bulk"

    /// Inserts rows with `COPY`. Without a conflict key they go straight in. With one, they are
    /// expected to be new (the usual case: a first upload): they go straight in behind a savepoint,
    /// and only when a key is already taken (a re-send, or another worker that registered the same
    /// key first) is the savepoint rolled back and the rows copied to a temporary table, from which
    /// `INSERT … ON CONFLICT DO NOTHING` takes those whose key is free and says which.
    func copyInsert(into table: String, columns: [String], rows: SQLRows, ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        guard rows.count > 0 else { return [] }
        guard let conflict else {
            try await copy(into: table, columns: columns, rows: rows)
            return Array(repeating: true, count: rows.count)
        }
        try await run("SAVEPOINT \(raw: Self.bulkSavepoint)")
        do {
            try await copy(into: table, columns: columns, rows: rows)
            try await run("RELEASE SAVEPOINT \(raw: Self.bulkSavepoint)")
            return Array(repeating: true, count: rows.count)
        } catch let error as SQLError where error.code == .constraint {
            try await run("ROLLBACK TO SAVEPOINT \(raw: Self.bulkSavepoint)")
            try await run("RELEASE SAVEPOINT \(raw: Self.bulkSavepoint)")
        }

        // The temporary table lives as long as the connection and is emptied at each commit. Its
        // `esteira_ord` keeps the rows' order, so that of two rows with one key the first goes in.
        let staging = "esteira_incoming_\(table)"
        let list = columns.joined(separator: ", ")
        try await run("""
            CREATE TEMPORARY TABLE IF NOT EXISTS \(raw: staging) ON COMMIT DELETE ROWS AS
            SELECT 0::bigint AS esteira_ord, \(raw: list) FROM \(raw: table) WITH NO DATA
            """)
        try await run("TRUNCATE \(raw: staging)")
        try await copy(into: staging, columns: ["esteira_ord"] + columns, rows: SQLRows(count: rows.count) { i, row in
            row.append(.int(Int64(i)))
            rows.make(i, &row)
        })
        let keyList = conflict.joined(separator: ", ")
        let keyIndexes = conflict.compactMap { columns.firstIndex(of: $0) }
        let returned = try await query("""
            INSERT INTO \(raw: table) (\(raw: list)) SELECT \(raw: list) FROM \(raw: staging) ORDER BY esteira_ord
            ON CONFLICT (\(raw: keyList)) DO NOTHING RETURNING \(raw: keyList)
            """)
        var keys = Set(returned.map { row in keyIndexes.indices.map { row.values[$0] } })
        return (0..<rows.count).map { i in
            let row = rows.row(i)
            return keys.remove(keyIndexes.map { row[$0] }) != nil
        }
    }

    /// `COPY table (columns) FROM STDIN` in PostgreSQL's text format, sent in pieces of about 256 KiB.
    func copy(into table: String, columns: [String], rows: SQLRows) async throws {
        let text = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
        do {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                var encoder = PostgresCopyText()
                var buffer = ByteBuffer()
                buffer.reserveCapacity(300 * 1024)
                var row: [SQLValue] = []
                for i in 0..<rows.count {
                    row.removeAll(keepingCapacity: true)
                    rows.make(i, &row)
                    encoder.append(row: row, to: &buffer)
                    if buffer.readableBytes >= 256 * 1024 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                if buffer.readableBytes > 0 { try await writer.write(buffer) }
            }
        } catch let error as PSQLError {
            throw Self.sqlError(error, sql: text)
        }
    }
}

/// Rows in the text format of `COPY` (tab between columns, newline after each row, `\N` for null,
/// and backslash escapes for the backslash, tab, newline and carriage return inside text).
/// Days go as `AAAA-MM-DD` and moments as ISO 8601 in UTC with microseconds, which PostgreSQL reads
/// the same whatever its `DateStyle`.
struct PostgresCopyText {
    /// Rows of one insert usually share their timestamp: its text is kept.
    private var lastMoment: (Date, [UInt8])?
    private var scratch: [UInt8] = []

    mutating func append(row: [SQLValue], to buffer: inout ByteBuffer) {
        for (i, value) in row.enumerated() {
            if i > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
            append(value, to: &buffer)
        }
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    mutating func append(_ value: SQLValue, to buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeStaticString("\\N")
        case .int(let n):
            PostgresCopyText.appendDecimal(n, to: &buffer)
        case .text(let s):
            PostgresCopyText.appendEscaped(s, to: &buffer)
        case .day(let d):
            scratch.removeAll(keepingCapacity: true)
            d.appendISO(to: &scratch)
            buffer.writeBytes(scratch)
        case .timestamp(let date):
            if let (known, bytes) = lastMoment, known == date {
                buffer.writeBytes(bytes)
            } else {
                let bytes = Array(Timestamp.iso(date).utf8)
                lastMoment = (date, bytes)
                buffer.writeBytes(bytes)
            }
        }
    }

    /// The decimal digits of `n`, without making a String.
    static func appendDecimal(_ n: Int64, to buffer: inout ByteBuffer) {
        if n < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var i = 20
            repeat {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            buffer.writeBytes(UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }

    static func appendEscaped(_ s: String, to buffer: inout ByteBuffer) {
        if let done = s.utf8.withContiguousStorageIfAvailable({ appendEscaped(bytes: $0, to: &buffer) }) { return done }
        var copy = s
        copy.withUTF8 { appendEscaped(bytes: $0, to: &buffer) }
    }

    static func appendEscaped(bytes: UnsafeBufferPointer<UInt8>, to buffer: inout ByteBuffer) {
        // Most text has nothing to escape (no byte below 0x20 and no backslash): one copy.
        guard bytes.contains(where: { $0 < 0x20 || $0 == 0x5C }) else {
            buffer.writeBytes(bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(byte)
            }
        }
    }
}

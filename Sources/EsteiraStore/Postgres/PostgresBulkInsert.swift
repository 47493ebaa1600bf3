import EsteiraCore
import Foundation
import NIOCore
import PostgresNIO

/// How many rows at once reach PostgreSQL. `copy` (the default) streams them with `COPY … FROM
/// STDIN`; `statements` sends multi-row `INSERT … VALUES` statements. docs/benchmarks.md has the
/// measurement that chose `copy`; `ESTEIRA_PG_BULK_WRITES=statements` brings the other back.
public enum PostgresBulkWrites: String, Sendable, CaseIterable {
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
            row.int(Int64(i))
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

    /// `COPY table (columns) FROM STDIN`, the rows encoded first in PostgreSQL's text format (or
    /// ahead of the transaction, by `SQLRows.prepared(for:)` or in the binary format by whoever
    /// made them) and sent in one write.
    ///
    /// One write, because PostgresNIO (1.33.2) stops the process (a `preconditionFailure` in its
    /// connection state machine, "Copy mode is only supported for extended queries") when a write
    /// reaches a connection that left copy mode, as one does when PostgreSQL shuts down in the middle
    /// of the `COPY`. Sent in pieces as they were encoded, every piece was a chance: the restart test
    /// crashed a worker that way. Encoded first, the data goes in one write right after PostgreSQL
    /// asks for it. A sub-batch's rows are a few MB.
    func copy(into table: String, columns: [String], rows: SQLRows) async throws {
        let data = rows.copyData ?? CopyData(format: .text, bytes: PostgresCopyText.encode(rows))
        let statement = "COPY \(table) (\(columns.joined(separator: ", "))) FROM STDIN"
        do {
            switch data.format {
            case .text:
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    try await writer.write(data.bytes)
                }
            case .binary:
                try await connection.copyFrom(table: Self.binaryCopyTarget(table: table, columns: columns), logger: logger) { writer in
                    try await writer.write(data.bytes)
                }
            }
        } catch let error as PSQLError {
            throw Self.sqlError(error, sql: statement)
        }
    }

    /// What to give `copyFrom` as a table's name for `COPY table (columns) FROM STDIN WITH (FORMAT
    /// binary)`. PostgresNIO 1.33.2 writes only the text format's statement, `COPY "<name>" FROM
    /// STDIN WITH (FORMAT text)`, and inserts the name as it is given (its documentation says so).
    /// So the name given closes its quote, names the columns and the binary format, and ends in a
    /// comment that takes the rest of the line. Table and column names are Esteira's own, never a
    /// client's. Should a later PostgresNIO quote the name, this names no table and every binary
    /// `COPY` fails loudly (the PostgreSQL store tests insert through it).
    static func binaryCopyTarget(table: String, columns: [String]) -> String {
        precondition(([table] + columns).allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
        return "\(table)\" (\(columns.joined(separator: ", "))) FROM STDIN WITH (FORMAT binary) --"
    }
}

/// Rows in the text format of `COPY` (tab between columns, newline after each row, `\N` for null,
/// and backslash escapes for the backslash, tab, newline and carriage return inside text).
/// Days go as `AAAA-MM-DD` and moments as ISO 8601 in UTC with microseconds, which PostgreSQL reads
/// the same whatever its `DateStyle`.
///
/// Each value is written where it goes in memory of its own, after one check that there is room
/// for the most it can take: a `ByteBuffer` write per field checked the buffer's capacity and
/// uniqueness each time, a fifth of the encoding's cost on a million rows. The text becomes a
/// `ByteBuffer` at the end, in one copy.
///
/// It owns its memory by hand: one value, used by the one encoding that made it, which `finish()`
/// ends. A copy of it would share that memory.
struct PostgresCopyText {
    private var base: UnsafeMutablePointer<UInt8>?
    private var count = 0
    private var capacity = 0
    private var atRowStart = true
    /// Rows of one insert usually share their timestamp: its text is kept.
    private var lastMoment: (Date, [UInt8])?

    init(capacity: Int) {
        if capacity > 0 { grow(to: capacity) }
    }

    /// All the rows, in one buffer.
    static func encode(_ rows: SQLRows) -> ByteBuffer {
        var writer = SQLRowWriter(copy: PostgresCopyText(capacity: rows.count * 160))
        for i in 0..<rows.count {
            rows.make(i, &writer)
            writer.copy.endRow()
        }
        return writer.copy.finish()
    }

    /// The text written, as a buffer; this one is empty afterwards.
    mutating func finish() -> ByteBuffer {
        guard let base else { return ByteBuffer() }
        let buffer = ByteBuffer(bytes: UnsafeBufferPointer(start: base, count: count))
        base.deallocate()
        self = PostgresCopyText(capacity: 0)
        return buffer
    }

    mutating func null() {
        let p = field(room: 2)
        p[0] = 0x5C
        p[1] = UInt8(ascii: "N")
        count += 2
    }

    mutating func int(_ n: Int64) {
        var p = field(room: 20)
        let start = p
        CopyText.putDecimal(n, &p)
        count += p - start
    }

    mutating func text(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ text(bytes: $0) }) != nil { return }
        var copy = s
        copy.withUTF8 { text(bytes: $0) }
    }

    /// At most twice the bytes given.
    mutating func text(bytes: UnsafeBufferPointer<UInt8>) {
        var p = field(room: 2 * bytes.count)
        let start = p
        CopyText.putEscaped(bytes, &p)
        count += p - start
    }

    /// `AAAA-MM-DD`, written in place: through `Day.withISO`, a generic function of another
    /// module, every day looked up the closure's generic metadata (a sixth of the rows' encoding).
    mutating func day(_ d: Day) {
        CopyText.putDay(d, field(room: 10))
        count += 10
    }

    mutating func timestamp(_ date: Date) {
        let bytes = moment(date)
        var p = field(room: bytes.count)
        bytes.withUnsafeBufferPointer { Self.put($0, &p) }
        count += bytes.count
    }

    mutating func endRow() {
        let p = room(1)
        p.pointee = 0x0A
        count += 1
        atRowStart = true
    }

    /// Where the next field's text goes, after its tab when it is not the row's first, with room
    /// for `room` bytes of it.
    @inline(__always)
    private mutating func field(room needed: Int) -> UnsafeMutablePointer<UInt8> {
        if atRowStart {
            atRowStart = false
            return room(needed)
        }
        let p = room(needed + 1)
        p.pointee = 0x09
        count += 1
        return p + 1
    }

    @inline(__always)
    private mutating func room(_ needed: Int) -> UnsafeMutablePointer<UInt8> {
        if count + needed > capacity { grow(to: max(count + needed, 2 * capacity, 4096)) }
        return base! + count
    }

    private mutating func grow(to newCapacity: Int) {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        if let base {
            bigger.update(from: base, count: count)
            base.deallocate()
        }
        base = bigger
        capacity = newCapacity
    }

    private mutating func moment(_ date: Date) -> [UInt8] {
        if let (known, bytes) = lastMoment, known == date { return bytes }
        let bytes = Array(Timestamp.iso(date).utf8)
        lastMoment = (date, bytes)
        return bytes
    }

    @inline(__always)
    static func put(_ bytes: UnsafeBufferPointer<UInt8>, _ p: inout UnsafeMutablePointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        p.update(from: base, count: bytes.count)
        p += bytes.count
    }
}

/// What SQLite's bulk insert needs of a connection. The algorithm belongs to SQLite, not to the
/// binding that runs its statements: Esteira's own (`SQLiteConnection`) and the GRDB adapter that
/// `scripts/bench-ingest` compares it with (Benchmarks/grdb) share it.
public protocol SQLiteStatementRunner: Sendable {
    /// Runs one statement and returns its rows.
    func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Runs the statements of `SQLiteBulkInsert.chunks` over `rows`; returns the rows changed.
    func insertChunked(head: String, tail: String, columns: Int, rows: [[SQLValue]], perStatement: Int) async throws -> Int
}

public enum SQLiteBulkInsert {
    /// The statements that insert `rows` rows: `head` + `perStatement` `(?, ...)` lists + `tail`
    /// while that many remain, then one row at a time, each with the range of rows it binds.
    public static func chunks(head: String, tail: String, columns: Int, rows: Int, perStatement: Int) -> [(sql: String, rows: Range<Int>)] {
        let one = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        let full = head + Array(repeating: one, count: perStatement).joined(separator: ", ") + tail
        let single = head + one + tail
        var out: [(String, Range<Int>)] = []
        var start = 0
        while start < rows {
            let n = rows - start >= perStatement ? perStatement : 1
            out.append((n == perStatement ? full : single, start..<(start + n)))
            start += n
        }
        return out
    }

    /// Rows per statement: as many as fit SQLite's limit of bound values, at most 64.
    public static func perStatement(columns: Int) -> Int { max(1, min(64, 30_000 / max(columns, 1))) }

    /// `SQLConnection.insert` on SQLite: multi-row statements; with `conflict`, rows whose key is
    /// taken are skipped, and the answer says which rows went in.
    public static func insert(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?,
                              using runner: some SQLiteStatementRunner) async throws -> [Bool] {
        guard !rows.isEmpty else { return [] }
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let perStatement = perStatement(columns: columns.count)
        guard let conflict else {
            _ = try await runner.insertChunked(head: head, tail: "", columns: columns.count, rows: rows, perStatement: perStatement)
            return Array(repeating: true, count: rows.count)
        }
        // Optimistic: insert every row, skipping those whose key is taken, and count what went in.
        // When that is every row (the usual case) there is nothing more to do. Otherwise the rows
        // that went in are the ones whose key now has a rowid above the largest before the insert
        // (SQLite gives a new row max(rowid) + 1), found with one lookup of the keys.
        // Inside a write transaction SQLite has a single writer, so no one else inserts meanwhile.
        let maxBefore = try await runner.rows("SELECT COALESCE(MAX(rowid), 0) AS m FROM \(table)", []).first?.int("m") ?? 0
        let tail = " ON CONFLICT (\(conflict.joined(separator: ", "))) DO NOTHING"
        let changed = try await runner.insertChunked(head: head, tail: tail, columns: columns.count, rows: rows, perStatement: perStatement)
        if changed == rows.count { return Array(repeating: true, count: rows.count) }

        let keyIndexes = conflict.compactMap { columns.firstIndex(of: $0) }
        guard let lastKey = keyIndexes.last, keyIndexes.count == conflict.count else {
            throw SQLError(code: .other, message: "conflict columns \(conflict) are not all inserted", sql: head)
        }
        // Rows are grouped by the leading key columns (for debts: the client), so that each lookup is
        // `k1 = ? AND k2 IN (...)`, which the unique index answers directly.
        let leading = Array(keyIndexes.dropLast())
        var groups: [[SQLValue]: [Int]] = [:]
        for (i, row) in rows.enumerated() { groups[leading.map { row[$0] }, default: []].append(i) }
        let filter = leading.map { "\(columns[$0]) = ? AND " }.joined()
        var ours = Set<[SQLValue]>()
        for (prefix, members) in groups {
            var start = 0
            while start < members.count {
                let chunk = members[start..<min(start + 500, members.count)]
                let text = "SELECT \(conflict.joined(separator: ", ")) FROM \(table) WHERE \(filter)\(columns[lastKey]) IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ") AND rowid > ?"
                let binds = prefix + chunk.map { rows[$0][lastKey] } + [.int(Int64(maxBefore))]
                for r in try await runner.rows(text, binds) { ours.insert(r.values) }
                start += chunk.count
            }
        }
        // A key offered twice went in once: the first row offering it.
        return rows.map { row in ours.remove(keyIndexes.map { row[$0] }) != nil }
    }
}

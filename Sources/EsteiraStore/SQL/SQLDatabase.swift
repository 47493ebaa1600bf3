import Logging

/// A connection lent for the length of one `read` or `write` block.
public protocol SQLConnection: Sendable {
    var dialect: SQLDialect { get }
    func query(_ sql: SQL) async throws -> [SQLRow]
    /// The rows as the text of their values, in one buffer (`SQLTextRows`).
    func queryText(_ sql: SQL) async throws -> SQLTextRows
    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: SQL) async throws -> Int

    /// Inserts many rows the fastest way the database has (SQLite: multi-row statements;
    /// PostgreSQL: `COPY`, see `PostgresBulkWrites`). With `ignoringConflictsOn`, a row that
    /// would break that unique key is skipped. Returns, for each row, whether it was inserted.
    /// Rows must not repeat a conflict key among themselves.
    @discardableResult
    func insert(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?) async throws -> [Bool]

    /// The same, with rows made one at a time (see `SQLRows`); by default they are all made first.
    @discardableResult
    func insert(into table: String, columns: [String], rows: SQLRows, ignoringConflictsOn conflict: [String]?) async throws -> [Bool]

    /// Runs statements one after another, in the order given, and returns how many rows each
    /// changed. SQLite runs them in one turn of its connection's thread.
    @discardableResult
    func executeAll(_ statements: [SQL]) async throws -> [Int]

    /// `executeAll` sent on its way now, for a caller that goes on meanwhile and awaits the task
    /// later; the same for `queryText` below. SQLite queues them on its connection's thread at
    /// once, in the order sent (see `SQLiteHandle.start`); by default each starts as a task of its
    /// own, in no set order. Every task sent must be awaited before the transaction's body returns.
    func send(_ statements: [SQL]) -> Task<[Int], any Error>
    func sendQueryText(_ sql: SQL) -> Task<SQLTextRows, any Error>
}

extension SQLConnection {
    public func send(_ statements: [SQL]) -> Task<[Int], any Error> {
        Task { try await executeAll(statements) }
    }

    public func sendQueryText(_ sql: SQL) -> Task<SQLTextRows, any Error> {
        Task { try await queryText(sql) }
    }

    @discardableResult
    public func executeAll(_ statements: [SQL]) async throws -> [Int] {
        var changed: [Int] = []
        for statement in statements { changed.append(try await execute(statement)) }
        return changed
    }

    @discardableResult
    public func insert(into table: String, columns: [String], rows: SQLRows, ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        try await insert(into: table, columns: columns, rows: rows.all, ignoringConflictsOn: conflict)
    }
}

/// The database, SQLite or PostgreSQL. Everything above it is written once for both.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// On SQLite it takes the single write lock at once (`BEGIN IMMEDIATE`). `durable` asks for
    /// the commit to be on disk before it returns, for what was promised to a client (an accepted upload).
    @discardableResult
    func write<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` on a consistent snapshot, for reads.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T

    func close() async throws

    /// Wakes the caller each time another process may have enqueued a job, while the stream is
    /// consumed (PostgreSQL: LISTEN on `JobQueue.channel`). Nil where there is no such signal
    /// (SQLite: one process, whose own doorbell does it).
    func jobSignals(logger: Logger) -> AsyncStream<Void>?
}

extension SQLDatabase {
    public func jobSignals(logger: Logger) -> AsyncStream<Void>? { nil }

    @discardableResult
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await write(durable: false, body)
    }

    public func query(_ sql: SQL) async throws -> [SQLRow] {
        try await read { try await $0.query(sql) }
    }

    @discardableResult
    public func execute(_ sql: SQL) async throws -> Int {
        try await write { try await $0.execute(sql) }
    }

    /// One page of `SELECT columns FROM-clause ORDER BY order`, with the total count, read on one snapshot.
    public func page<Item: Sendable>(select columns: String, from clause: SQL, orderBy order: String, page: Int, perPage: Int,
                                     _ transform: @escaping @Sendable (SQLRow) throws -> Item) async throws -> Page<Item> {
        try await read { c in
            let total = try await c.query("SELECT COUNT(*) AS n FROM \(clause)")[0].int("n")
            let rows = try await c.query(
                "SELECT \(raw: columns) FROM \(clause) ORDER BY \(raw: order) LIMIT \(perPage) OFFSET \(Page<Item>.offset(page: page, perPage: perPage))")
            return Page(items: try rows.map(transform), page: page, perPage: perPage, total: total)
        }
    }
}

extension SQLConnection {
    /// `FOR UPDATE` where the database has row locks (PostgreSQL). SQLite needs none: a write
    /// transaction holds the whole database.
    public var forUpdate: SQL { dialect == .postgres ? " FOR UPDATE" : "" }

    /// `FOR UPDATE OF table` on PostgreSQL: locks only that table's rows of a join (an outer
    /// join's nullable side cannot be locked).
    public func forUpdate(of table: String) -> SQL { dialect == .postgres ? " FOR UPDATE OF \(raw: table)" : "" }

    /// `FOR SHARE` on PostgreSQL: waits for a transaction that holds the row `FOR UPDATE`.
    public var forShare: SQL { dialect == .postgres ? " FOR SHARE" : "" }

    /// Whether several transactions may write at once (PostgreSQL), so that one may wait inside its
    /// transaction for another to commit. SQLite has a single writer: such a wait would never end.
    public var allowsConcurrentWriters: Bool { dialect == .postgres }

    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL, for claiming queue rows.
    public var forUpdateSkipLocked: SQL { dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    @discardableResult
    public func insert(into table: String, columns: [String], rows: [[SQLValue]]) async throws -> [Bool] {
        try await insert(into: table, columns: columns, rows: rows, ignoringConflictsOn: nil)
    }

    /// Inserts many rows in multi-row statements, as few as the bind limit allows. With a conflict
    /// key, rows that would break it are skipped, and the keys of those inserted come back through
    /// `RETURNING` to say which rows went in.
    func insertMultiRow(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        guard !rows.isEmpty else { return [] }
        let perStatement = max(1, maxBindsPerStatement / max(columns.count, 1))
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let keyIndexes = conflict?.compactMap { columns.firstIndex(of: $0) } ?? []
        let suffix = conflict.map { " ON CONFLICT (\($0.joined(separator: ", "))) DO NOTHING RETURNING \($0.joined(separator: ", "))" } ?? ""
        var inserted: [Bool] = []
        inserted.reserveCapacity(rows.count)
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let statement: SQL = "\(raw: head)\(SQL.values(Array(chunk)))\(raw: suffix)"
            if conflict == nil {
                try await execute(statement)
                inserted += Array(repeating: true, count: chunk.count)
            } else {
                var keys = Set(try await query(statement).map { row in keyIndexes.indices.map { row.values[$0] } })
                // A key offered twice went in once: the first row offering it.
                inserted += chunk.map { row in keys.remove(keyIndexes.map { row[$0] }) != nil }
            }
            start += chunk.count
        }
        return inserted
    }
}

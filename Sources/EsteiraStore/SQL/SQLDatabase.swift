/// A connection lent for the length of one `read` or `write` block.
public protocol SQLConnection: Sendable {
    var dialect: SQLDialect { get }
    func query(_ sql: SQL) async throws -> [SQLRow]
    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: SQL) async throws -> Int
}

/// The database, SQLite or PostgreSQL. Everything above it is written once for both.
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// On SQLite it takes the single write lock at once (`BEGIN IMMEDIATE`). `durable` asks for
    /// the commit to be on disk before it returns, for what was promised to a client (an accepted upload).
    @discardableResult
    func write<T: Sendable>(durable: Bool, _ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T

    /// Runs `body` on a consistent snapshot, for reads.
    func read<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T

    func close() async throws
}

extension SQLDatabase {
    @discardableResult
    public func write<T: Sendable>(_ body: @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await write(durable: false, body)
    }

    public func query(_ sql: SQL) async throws -> [SQLRow] {
        try await read { try await $0.query(sql) }
    }

    @discardableResult
    public func execute(_ sql: SQL) async throws -> Int {
        try await write { try await $0.execute(sql) }
    }
}

extension SQLConnection {
    /// `FOR UPDATE` where the database has row locks (PostgreSQL). SQLite needs none: a write
    /// transaction holds the whole database.
    public var forUpdate: SQL { dialect == .postgres ? " FOR UPDATE" : "" }

    /// `FOR UPDATE SKIP LOCKED` on PostgreSQL, for claiming queue rows.
    public var forUpdateSkipLocked: SQL { dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : "" }

    /// Inserts many rows in as few statements as the bind limit allows.
    /// `suffix` goes after the VALUES list (`ON CONFLICT ... DO NOTHING RETURNING ...`);
    /// the rows it returns are collected.
    @discardableResult
    public func insertMany(into table: String, columns: [String], rows: [[SQLValue]], suffix: SQL = "") async throws -> [SQLRow] {
        guard !rows.isEmpty else { return [] }
        let perStatement = max(1, maxBindsPerStatement / max(columns.count, 1))
        let head = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        var returned: [SQLRow] = []
        var start = 0
        while start < rows.count {
            let end = min(start + perStatement, rows.count)
            let statement: SQL = "\(raw: head)\(SQL.values(Array(rows[start..<end])))\(suffix)"
            returned += try await query(statement)
            start = end
        }
        return returned
    }
}

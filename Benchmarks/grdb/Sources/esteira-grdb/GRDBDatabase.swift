import EsteiraCore
import EsteiraStore
import Foundation
import GRDB

/// Esteira's `SQLDatabase` on GRDB's `DatabasePool`, set up as `SQLiteDatabase` sets up its own
/// connections (WAL, the same pragmas, one writer, readers beside it), so that the benchmark
/// compares the bindings and not two configurations. GRDB keeps its own WAL checkpointing.
///
/// A transaction's body is asynchronous (it awaits between statements), and GRDB runs each block
/// on the connection's queue synchronously: so, as in Esteira's binding, each statement is one
/// block on the writer's queue, inside a `BEGIN IMMEDIATE` … `COMMIT` that the writer lock below
/// keeps to one transaction at a time. That needs `allowsUnsafeTransactions`.
final class GRDBDatabase: SQLDatabase {
    var dialect: SQLDialect { .sqlite }
    let pool: DatabasePool
    private let writeLock = WriteLock()

    init(path: String) throws {
        var config = Configuration()
        config.allowsUnsafeTransactions = true
        config.busyMode = .timeout(30)
        config.maximumReaderCount = 4
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous=NORMAL") }
    }

    func write<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        await writeLock.lock()
        do {
            let value = try await transaction(durable: durable, body)
            await writeLock.unlock()
            return value
        } catch {
            await writeLock.unlock()
            throw error
        }
    }

    private func transaction<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let pool = self.pool
        try await pool.writeWithoutTransaction { db in
            if durable { try db.execute(sql: "PRAGMA synchronous=FULL") }
            try db.execute(sql: "BEGIN IMMEDIATE")
        }
        do {
            let value = try await body(GRDBConnection(pool: pool, writing: true))
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "COMMIT")
                if durable { try db.execute(sql: "PRAGMA synchronous=NORMAL") }
            }
            return value
        } catch {
            try? await pool.writeWithoutTransaction { db in
                try db.execute(sql: "ROLLBACK")
                if durable { try db.execute(sql: "PRAGMA synchronous=NORMAL") }
            }
            throw error
        }
    }

    /// Each statement of a read block is one `DatabasePool.read`: GRDB opens a snapshot per block,
    /// and its blocks are synchronous.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await body(GRDBConnection(pool: pool, writing: false))
    }

    func close() async throws { try pool.close() }
}

/// One transaction held at a time, waiters served in arrival order.
private actor WriteLock {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !held { held = true; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func unlock() {
        if waiting.isEmpty { held = false } else { waiting.removeFirst().resume() }
    }
}

struct GRDBConnection: SQLConnection, SQLiteStatementRunner {
    let pool: DatabasePool
    let writing: Bool
    var dialect: SQLDialect { .sqlite }

    private func run<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        writing ? try await pool.writeWithoutTransaction(work) : try await pool.read(work)
    }

    func query(_ sql: EsteiraStore.SQL) async throws -> [SQLRow] {
        try await rows(sql.render(.sqlite), sql.binds)
    }

    func execute(_ sql: EsteiraStore.SQL) async throws -> Int {
        let text = sql.render(.sqlite), arguments = Self.arguments(sql.binds)
        return try await run { db in
            try db.execute(sql: text, arguments: arguments)
            return db.changesCount
        }
    }

    func insert(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        try await SQLiteBulkInsert.insert(into: table, columns: columns, rows: rows, ignoringConflictsOn: conflict, using: self)
    }

    func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let arguments = Self.arguments(binds)
        return try await run { db in
            let statement = try db.cachedStatement(sql: sql)
            statement.setUncheckedArguments(arguments)
            var values: [[SQLValue]] = []
            let cursor = try Row.fetchCursor(statement)
            while let row = try cursor.next() { values.append(row.databaseValues.map(Self.value)) }
            return SQLRow.rows(columns: statement.columnNames, values: values, sql: sql)
        }
    }

    func insertChunked(head: String, tail: String, columns: Int, rows: [[SQLValue]], perStatement: Int) async throws -> Int {
        let chunks = SQLiteBulkInsert.chunks(head: head, tail: tail, columns: columns, rows: rows.count, perStatement: perStatement)
        return try await run { db in
            var changed = 0
            for (sql, range) in chunks {
                let statement = try db.cachedStatement(sql: sql)
                statement.setUncheckedArguments(Self.arguments(Array(rows[range].joined())))
                try statement.execute()
                changed += db.changesCount
            }
            return changed
        }
    }

    static func arguments(_ binds: [SQLValue]) -> StatementArguments {
        StatementArguments(binds.map { value -> DatabaseValue in
            switch value {
            case .null: .null
            case .int(let n): n.databaseValue
            case .text(let s): s.databaseValue
            case .timestamp(let d): Timestamp.iso(d).databaseValue
            case .day(let d): d.iso.databaseValue
            }
        })
    }

    static func value(_ v: DatabaseValue) -> SQLValue {
        switch v.storage {
        case .null: .null
        case .int64(let n): .int(n)
        case .double(let d): .int(Int64(d))
        case .string(let s): .text(s)
        case .blob(let b): .text(String(decoding: b, as: UTF8.self))
        }
    }
}

import CSQLite
import Dispatch
import EsteiraCore
import Foundation
import Synchronization

/// One SQLite connection, used from its own serial queue only: SQLite calls block, so they are
/// kept off Swift's cooperative threads, which serve HTTP and the workers.
final class SQLiteHandle: @unchecked Sendable {
    // @unchecked: `db` and `statements` are touched only inside `queue`, one block at a time.
    private let db: OpaquePointer
    private let queue: DispatchQueue
    private var statements: [String: OpaquePointer] = [:]
    private var columnNames: [OpaquePointer: SQLRow.Columns] = [:]
    private var textRoom: [OpaquePointer: SQLTextRows.Room] = [:]
    /// Bulk inserts stamp every row with the same moment: format it once.
    private var lastTimestamp: (Date, String)?

    init(path: String, label: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLError(code: .connection, message: "\(message) (\(path))", sql: "")
        }
        db = handle
        queue = DispatchQueue(label: label)
        sqlite3_busy_timeout(db, 30_000)
    }

    deinit {
        for s in statements.values { sqlite3_finalize(s) }
        sqlite3_close_v2(db)
    }

    /// Runs `work` on the connection's queue.
    func run<T: Sendable>(_ work: @escaping @Sendable (SQLiteHandle) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work(self) })
            }
        }
    }

    /// Queues `work` on the connection's thread now, behind what was queued before, and returns a
    /// task that ends with it. `run` queues only once its caller's task runs again: a caller that
    /// feeds the connection from a loop would leave the thread idle for that hop each time.
    ///
    /// `work`, and what it holds, is let go on this thread before the task ends: values the caller
    /// keeps until then are freed on the caller's side, by the thread that made them (see
    /// `DebtOperations.apply`).
    func start<T: Sendable>(_ work: @escaping @Sendable (SQLiteHandle) throws -> T) -> Task<T, any Error> {
        let outcome = QueuedOutcome<T>(work)
        queue.async { outcome.run(on: self) }
        return Task { try await outcome.value }
    }

    private func error(_ rc: Int32, _ sql: String) -> SQLError {
        let message = String(cString: sqlite3_errmsg(db))
        let primary = rc & 0xFF
        let code: SQLError.Code = primary == SQLITE_CONSTRAINT ? .constraint
            : (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? .busy : .other
        return SQLError(code: code, message: message, sql: sql)
    }

    /// Runs statements with no binds and no results (pragmas, DDL, BEGIN/COMMIT).
    func exec(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? "error \(rc)"
            sqlite3_free(errmsg)
            throw SQLError(code: (rc & 0xFF) == SQLITE_BUSY ? .busy : .other, message: message, sql: sql)
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        if statements.count > 256 {
            for s in statements.values { sqlite3_finalize(s) }
            statements.removeAll()
            columnNames.removeAll()
            textRoom.removeAll()
        }
        statements[sql] = stmt
        return stmt
    }

    /// The text of the values being bound, NUL-terminated one after another, so that SQLite binds
    /// them without copying each (`SQLITE_STATIC`): the buffer does not change until the statement
    /// has been stepped.
    private var arena: [UInt8] = []
    private var offsets: [Int] = []

    /// Binds `values` to `stmt` from `arena` and runs `body` (the stepping) while the bytes are valid.
    private func withBinds<T>(_ stmt: OpaquePointer, _ values: some Collection<SQLValue>, _ sql: String,
                              _ body: () throws -> T) throws -> T {
        // Worked on as locals (moved out and back), so that the per-value loop does not go through
        // the class's exclusive-access checks.
        var arena = self.arena, offsets = self.offsets
        self.arena = []
        self.offsets = []
        defer {
            self.arena = arena
            self.offsets = offsets
        }
        arena.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        for value in values {
            offsets.append(arena.count)
            switch value {
            case .text(var s): s.withUTF8 { arena.append(contentsOf: $0) }
            case .timestamp(let d): arena.append(contentsOf: isoTimestamp(d).utf8)
            case .day(let d): d.appendISO(to: &arena)
            case .null, .int: continue
            }
            arena.append(0)
        }
        return try arena.withUnsafeBufferPointer { buffer in
            var index: Int32 = 1
            for value in values {
                let rc: Int32
                switch value {
                case .null: rc = sqlite3_bind_null(stmt, index)
                case .int(let v): rc = sqlite3_bind_int64(stmt, index, v)
                case .text, .timestamp, .day:
                    let start = offsets[Int(index) - 1]
                    let p = buffer.baseAddress! + start
                    // The length is known: the value ends at the NUL written after it.
                    let end = Int(index) < offsets.count ? offsets[Int(index)] - 1 : buffer.count - 1
                    rc = p.withMemoryRebound(to: CChar.self, capacity: 1) {
                        sqlite3_bind_text(stmt, index, $0, Int32(end - start), nil) // nil is SQLITE_STATIC
                    }
                }
                guard rc == SQLITE_OK else { throw error(rc, sql) }
                index += 1
            }
            return try body()
        }
    }

    /// Inserts `rows` with statements of `perStatement` rows each (see `SQLiteBulkInsert.chunks`).
    func insertChunked(head: String, tail: String = "", columns: Int, rows: [[SQLValue]], perStatement: Int) throws -> Int {
        var changed = 0
        for (sql, range) in SQLiteBulkInsert.chunks(head: head, tail: tail, columns: columns, rows: rows.count, perStatement: perStatement) {
            let stmt = try prepared(sql)
            defer {
                sqlite3_reset(stmt)
                sqlite3_clear_bindings(stmt)
            }
            let rc = try withBinds(stmt, rows[range].joined(), sql) { sqlite3_step(stmt) }
            guard rc == SQLITE_DONE else { throw error(rc, sql) }
            changed += Int(sqlite3_changes(db))
        }
        return changed
    }

    private func isoTimestamp(_ d: Date) -> String {
        if let (last, iso) = lastTimestamp, last == d { return iso }
        let iso = Timestamp.iso(d)
        lastTimestamp = (d, iso)
        return iso
    }

    /// Runs one statement; returns its rows and the number of rows it changed.
    func step(_ sql: String, _ binds: [SQLValue]) throws -> (rows: [SQLRow], changes: Int) {
        let stmt = try prepared(sql)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        return try withBinds(stmt, binds, sql) { try collect(stmt, sql) }
    }

    /// Runs one statement and keeps its rows as the text SQLite gives for each value.
    func stepText(_ sql: String, _ binds: [SQLValue]) throws -> SQLTextRows {
        let stmt = try prepared(sql)
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
        }
        return try withBinds(stmt, binds, sql) {
            let width = sqlite3_column_count(stmt)
            // A statement read again (an export's next slice) gets room for what it gave last time.
            var rows = SQLTextRows(width: Int(width), room: textRoom[stmt])
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw error(rc, sql) }
                for c in 0..<width {
                    // An integer comes as its digits, which SQLite writes itself. Nil is NULL, or
                    // SQLite out of memory, told apart only then.
                    if let p = sqlite3_column_text(stmt, c) {
                        rows.append(UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(stmt, c))))
                    } else {
                        guard sqlite3_column_type(stmt, c) == SQLITE_NULL else { throw error(SQLITE_NOMEM, sql) }
                        rows.appendNull()
                    }
                }
            }
            textRoom[stmt] = rows.room
            return rows
        }
    }

    private func collect(_ stmt: OpaquePointer, _ sql: String) throws -> (rows: [SQLRow], changes: Int) {
        var rows: [SQLRow] = []
        let count = Int(sqlite3_column_count(stmt))
        var columns: SQLRow.Columns?
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw error(rc, sql) }
            if columns == nil {
                if let known = columnNames[stmt] { columns = known } else {
                    let names = (0..<count).map { String(cString: sqlite3_column_name(stmt, Int32($0))) }
                    let made = SQLRow.Columns(names, sql: sql)
                    columnNames[stmt] = made
                    columns = made
                }
            }
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for c in 0..<Int32(count) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_NULL: values.append(.null)
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: values.append(.int(Int64(sqlite3_column_double(stmt, c))))
                default:
                    if let p = sqlite3_column_text(stmt, c) {
                        let n = Int(sqlite3_column_bytes(stmt, c))
                        values.append(.text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)))
                    } else {
                        values.append(.null)
                    }
                }
            }
            rows.append(SQLRow(columns: columns!, values: values))
        }
        return (rows, Int(sqlite3_changes(db)))
    }
}

/// A connection lent to one `read` or `write` block.
struct SQLiteConnection: SQLConnection {
    let handle: SQLiteHandle
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        let text = sql.render(.sqlite), binds = sql.binds
        return try await handle.run { try $0.step(text, binds).rows }
    }

    func queryText(_ sql: SQL) async throws -> SQLTextRows {
        try await handle.run(Self.textRows(sql))
    }

    func execute(_ sql: SQL) async throws -> Int {
        let text = sql.render(.sqlite), binds = sql.binds
        return try await handle.run { try $0.step(text, binds).changes }
    }

    func executeAll(_ statements: [SQL]) async throws -> [Int] {
        try await handle.run(Self.steps(statements))
    }

    func send(_ statements: [SQL]) -> Task<[Int], any Error> {
        handle.start(Self.steps(statements))
    }

    func sendQueryText(_ sql: SQL) -> Task<SQLTextRows, any Error> {
        handle.start(Self.textRows(sql))
    }

    /// The work of `executeAll` and `send`: the statements rendered here, run in one turn of the
    /// connection's thread.
    private static func steps(_ statements: [SQL]) -> @Sendable (SQLiteHandle) throws -> [Int] {
        let rendered = statements.map { ($0.render(.sqlite), $0.binds) }
        return { h in try rendered.map { try h.step($0.0, $0.1).changes } }
    }

    /// The work of `queryText` and `sendQueryText`.
    private static func textRows(_ sql: SQL) -> @Sendable (SQLiteHandle) throws -> SQLTextRows {
        let text = sql.render(.sqlite), binds = sql.binds
        return { try $0.stepText(text, binds) }
    }

    func insert(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        try await SQLiteBulkInsert.insert(into: table, columns: columns, rows: rows, ignoringConflictsOn: conflict, using: self)
    }
}

extension SQLiteConnection: SQLiteStatementRunner {
    func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await handle.run { try $0.step(sql, binds).rows }
    }

    func insertChunked(head: String, tail: String, columns: Int, rows: [[SQLValue]], perStatement: Int) async throws -> Int {
        try await handle.run { try $0.insertChunked(head: head, tail: tail, columns: columns, rows: rows, perStatement: perStatement) }
    }
}

/// Work queued on a connection's thread and what it came to, for the task that awaits it
/// (`SQLiteHandle.start`).
final class QueuedOutcome<T: Sendable>: Sendable {
    typealias Work = @Sendable (SQLiteHandle) throws -> T

    private enum State {
        case running(waiting: [CheckedContinuation<T, any Error>])
        case done(Result<T, any Error>)
    }

    private let work: Mutex<Work?>
    private let state = Mutex<State>(.running(waiting: []))

    init(_ work: @escaping Work) {
        self.work = Mutex(work)
    }

    /// Runs the work once, lets it go, then tells the waiting.
    func run(on handle: SQLiteHandle) {
        finish(perform(on: handle))
    }

    private func perform(on handle: SQLiteHandle) -> Result<T, any Error> {
        guard let work = work.withLock({ w in defer { w = nil }; return w }) else {
            return .failure(SQLError(code: .other, message: "queued work ran twice", sql: ""))
        }
        return Result { try work(handle) }
    }

    private func finish(_ result: Result<T, any Error>) {
        let waiting = state.withLock { state -> [CheckedContinuation<T, any Error>] in
            guard case .running(let waiting) = state else { return [] }
            state = .done(result)
            return waiting
        }
        for continuation in waiting { continuation.resume(with: result) }
    }

    var value: T {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                let done = state.withLock { state -> Result<T, any Error>? in
                    switch state {
                    case .done(let result): return result
                    case .running(var waiting):
                        waiting.append(continuation)
                        state = .running(waiting: waiting)
                        return nil
                    }
                }
                if let done { continuation.resume(with: done) }
            }
        }
    }
}

import EsteiraCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// The scaled-out database. `PostgresClient` keeps the connection pool and must run as a service:
/// the caller runs `run()` (the command puts it in its ServiceGroup; tests in a task group).
public final class PostgresDatabase: SQLDatabase {
    public var dialect: SQLDialect { .postgres }
    public let client: PostgresClient
    let logger: Logger
    let bulkWrites: PostgresBulkWrites
    /// Opened by `run()`: connections are leased only once the pool runs (before, PostgresNIO
    /// would wait anyway, and warn).
    private let started: StartGate

    /// How long a transaction may wait for a connection, and take in all, before its caller gets an
    /// error. A call begun while PostgreSQL restarted was seen never to answer, and a request for a
    /// connection made then never to be served (PostgresNIO 1.33.2; see "Stopping and hanging" in
    /// docs/architecture.md): without a bound, an API request or a background loop would wait on it
    /// for ever. An abandoned transaction cannot commit afterwards: it rolls back whenever its work ends.
    public let limits: PostgresLimits
    /// One connection as the pool makes them (TCP only), tried on its own when the pool gives
    /// none: the pool retries a failing connection quietly, and its error (a certificate made out
    /// to another host, a refused password) would otherwise never reach whoever waits.
    let probe: PostgresConnection.Configuration?

    public init(url: String, logger: Logger, maxConnections: Int = 10, bulkWrites: PostgresBulkWrites = .copy,
                limits: PostgresLimits = PostgresLimits()) throws {
        var configuration = try PostgresDatabase.configuration(url: url)
        probe = try PostgresDatabase.probe(url: url)
        configuration.options.maximumConnections = maxConnections
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.bulkWrites = bulkWrites
        self.limits = limits
        started = StartGate()
    }

    /// The same pool with other limits: for a long report, or a test.
    public func withLimits(_ limits: PostgresLimits) -> PostgresDatabase {
        PostgresDatabase(sharing: self, limits: limits)
    }

    private init(sharing other: PostgresDatabase, limits: PostgresLimits) {
        client = other.client
        probe = other.probe
        logger = other.logger
        bulkWrites = other.bulkWrites
        started = other.started
        self.limits = limits
    }

    /// What a `DATABASE_URL` says: `postgres://user:password@host:port/database?sslmode=verify-full&sslrootcert=/path/ca.pem`
    /// (`PostgresTLS` says what each mode means), with libpq's `hostaddr` (the address to connect
    /// to, the URL's host being the name the certificate must carry); a `host` query item may
    /// name a Unix socket folder, where nothing is encrypted (nothing leaves the host).
    struct Target {
        var user: String
        var password: String?
        var database: String?
        var port: Int
        var socketFolder: String?
        var address: String
        var serverName: String?
        var tls: (mode: PostgresTLS.Mode, tls: TLSConfiguration?)

        init(url: String) throws {
            guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
                throw SQLError(code: .connection, message: "DATABASE_URL is not a postgres:// URL", sql: "")
            }
            let items = components.queryItems ?? []
            func item(_ name: String) -> String? { items.first { $0.name == name }?.value.flatMap { $0.isEmpty ? nil : $0 } }
            user = components.user ?? "postgres"
            password = components.password
            database = components.path.isEmpty ? nil : String(components.path.dropFirst())
            port = components.port ?? 5432
            socketFolder = item("host").flatMap { $0.hasPrefix("/") ? $0 : nil }
            tls = try PostgresTLS.settings(sslmode: item("sslmode"), sslrootcert: item("sslrootcert"))
            (address, serverName) = try PostgresTLS.endpoint(host: components.host ?? "127.0.0.1", hostaddr: item("hostaddr"), mode: tls.mode)
        }
    }

    static func configuration(url: String) throws -> PostgresClient.Configuration {
        let t = try Target(url: url)
        if let socketFolder = t.socketFolder {
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketFolder)/.s.PGSQL.\(t.port)", username: t.user, password: t.password, database: t.database)
        }
        var configuration = PostgresClient.Configuration(host: t.address, port: t.port, username: t.user, password: t.password,
                                                         database: t.database, tls: PostgresTLS.pool(t.tls))
        configuration.options.tlsServerName = t.serverName
        return configuration
    }

    /// The same URL as one connection's configuration; nil for a Unix socket.
    static func probe(url: String) throws -> PostgresConnection.Configuration? {
        let t = try Target(url: url)
        if t.socketFolder != nil { return nil }
        var configuration = PostgresConnection.Configuration(host: t.address, port: t.port, username: t.user, password: t.password,
                                                             database: t.database, tls: try PostgresTLS.connection(t.tls))
        configuration.options.tlsServerName = t.serverName
        return configuration
    }

    /// Why no connection can be made now, from one attempt outside the pool (within a few
    /// seconds); nil when it connects, or for a Unix socket.
    func connectionProblem() async -> String? {
        guard let probe else { return nil }
        let logger = self.logger
        let attempt = await race({ @Sendable () async throws -> String? in
            do {
                let connection = try await PostgresConnection.connect(configuration: probe, id: 0, logger: logger)
                try? await connection.close()
                return nil
            } catch let error as PSQLError {
                return error.underlying.map { "\($0)" } ?? "\(error.code)"
            }
        }, alarms: [{ @Sendable () async throws -> String in
            try await Task.sleep(for: .seconds(3))
            return "no answer within 3 s"
        }])
        switch attempt {
        case .ended(.success(let problem)): return problem
        case .ended(.failure(let error)): return "\(error)"
        case .alarm(let why): return why
        }
    }

    /// Runs the connection pool until cancelled.
    public func run() async {
        started.open()
        await client.run()
    }

    /// A pooled connection for `body`, once the pool runs.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        await started.wait()
        return try await client.withConnection(body)
    }

    /// A write that is not `durable` commits without waiting for its WAL to reach the disk
    /// (`synchronous_commit = off`, the counterpart of SQLite's `synchronous=NORMAL`): a PostgreSQL
    /// crash may lose the last such commits, whole, which puts the pipeline back a few steps that
    /// then run again. Nothing promised to a client rides on them.
    public func write<T: Sendable>(durable: Bool, _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN", settings: durable ? nil : "SET LOCAL synchronous_commit TO off", body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", settings: nil, body)
    }

    private func transaction<T: Sendable>(begin: PostgresQuery, settings: PostgresQuery?,
                                          _ body: @escaping @Sendable (any SQLConnection) async throws -> T) async throws -> T {
        let abandoned = Flag(), connected = Flag()
        let limit = limits.transaction, wait = limits.connectionWait
        let raced = await race({
            try await self.withConnection { connection in
                connected.set()
                // Its caller was already told it failed: it must not begin now.
                if abandoned.isSet { throw SQLError(code: .connection, message: "transaction abandoned before it began", sql: "") }
                return try await self.untilClosed(connection, abandoned: abandoned) {
                    _ = try await connection.query(begin, logger: self.logger).get()
                    do {
                        if let settings { _ = try await connection.query(settings, logger: self.logger).get() }
                        let value = try await body(PostgresSQLConnection(connection: connection, logger: self.logger, bulkWrites: self.bulkWrites))
                        // Its caller was already told it failed: it must not commit now.
                        if abandoned.isSet { throw SQLError(code: .connection, message: "transaction abandoned", sql: "") }
                        _ = try await connection.query("COMMIT", logger: self.logger).get()
                        return value
                    } catch {
                        _ = try? await connection.query("ROLLBACK", logger: self.logger).get()
                        throw error
                    }
                }
            }
        }, alarms: [
            // Each alarm marks the transaction abandoned before the work is cancelled, so that work
            // which ends on its cancellation finds the flag set and rolls back.
            { @Sendable () async throws -> TransactionAlarm in
                try await Task.sleep(for: .seconds(wait))
                guard !connected.isSet else { throw CancellationError() }
                abandoned.set()
                return .noConnection
            },
            { @Sendable () async throws -> TransactionAlarm in
                try await Task.sleep(for: .seconds(limit))
                abandoned.set()
                // A limit at or under the wait runs out while the transaction still waits for
                // its connection: that is what to tell, with the connection's problem.
                return connected.isSet ? .overran : .noConnection
            },
        ])
        switch raced {
        case .ended(.failure(let error as PSQLError)):
            // From BEGIN, COMMIT or ROLLBACK, which run outside `PostgresSQLConnection`.
            throw PostgresSQLConnection.sqlError(error, sql: "")
        case .ended(let result):
            return try result.get()
        case .alarm(.noConnection):
            let waited = min(wait, limit)
            logger.error("PostgreSQL transaction abandoned: no connection within its wait limit", metadata: ["limit_seconds": "\(waited)"])
            let problem = await connectionProblem()
            throw SQLError(code: .connection, message: "no PostgreSQL connection within \(waited) s" + (problem.map { ": " + $0 } ?? ""), sql: "")
        case .alarm(.overran):
            logger.error("PostgreSQL transaction abandoned: no answer within its limit", metadata: ["limit_seconds": "\(limit)"])
            throw SQLError(code: .connection, message: "PostgreSQL did not answer within \(limit) s; the transaction rolls back", sql: "")
        }
    }

    /// Runs `work` on `connection`, and gives up on it a second after the connection closes if it
    /// has not ended by then. PostgresNIO (1.33.2) drops the continuation of a `COPY` begun on a
    /// connection that PostgreSQL is closing ("SWIFT TASK CONTINUATION MISUSE: copyFrom… leaked
    /// its continuation", seen in the restart test), and a call so dropped never returns. Without
    /// this, such a register step waited for the job's timeout (15 minutes by default) and the
    /// steps after it for its turn. The second lets a call that fails as it should report its own error.
    private func untilClosed<T: Sendable>(_ connection: PostgresConnection, abandoned: Flag,
                                          _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let raced = await race(work, alarms: [{ @Sendable () async throws -> Void in
            while !connection.isClosed { try await Task.sleep(for: .milliseconds(200)) }
            try await Task.sleep(for: .seconds(1))
            abandoned.set()
        }])
        switch raced {
        case .ended(let result):
            return try result.get()
        case .alarm:
            logger.error("PostgreSQL connection closed under a call that never returned; the call is given up")
            throw SQLError(code: .connection, message: "the PostgreSQL connection closed during the transaction", sql: "")
        }
    }

    /// Why a transaction was given up.
    enum TransactionAlarm: Sendable {
        case noConnection
        case overran
    }

    public func close() async throws {}

    /// Listens on one pooled connection for as long as the stream is consumed; when the connection
    /// drops (PostgreSQL restarted), listens again after a second, and signals once on
    /// reconnecting, since a notification may have been missed meanwhile.
    public func jobSignals(logger: Logger) -> AsyncStream<Void>? {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let task = Task {
            var first = true
            while !Task.isCancelled {
                do {
                    try await withConnection { connection in
                        try await connection.listen(on: JobQueue.channel) { notifications in
                            if !first { continuation.yield() }
                            first = false
                            for try await _ in notifications { continuation.yield() }
                        }
                    }
                    // The notifications ended without an error (the connection closed): listen again, after a pause.
                    first = false
                    try await Task.sleep(for: .seconds(1))
                } catch is CancellationError {
                    break
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("job notifications lost; listening again", metadata: ["error": "\(error)"])
                    first = false
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

struct PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    let bulkWrites: PostgresBulkWrites
    var dialect: SQLDialect { .postgres }

    @discardableResult
    func run(_ sql: SQL) async throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: sql.binds.count)
        for value in sql.binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let v): bindings.append(v)
            case .text(let s): bindings.append(s)
            case .timestamp(let d): try bindings.append(PostgresTimestamp(date: d))
            case .day(let d): try bindings.append(PostgresDay(day: d))
            }
        }
        let text = sql.render(.postgres)
        do {
            return try await connection.query(PostgresQuery(unsafeSQL: text, binds: bindings), logger: logger).get()
        } catch let error as PSQLError {
            throw Self.sqlError(error, sql: text)
        }
    }

    static func sqlError(_ error: PSQLError, sql: String) -> SQLError {
        let sqlState = error.serverInfo?[.sqlState] ?? ""
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        // Class 08 is a connection exception; 57P01–57P03 are the server shutting down or not yet
        // accepting connections: all of them say "the connection", not the statement.
        let code: SQLError.Code = sqlState.hasPrefix("23") ? .constraint
            : (sqlState == "40001" || sqlState == "40P01") ? .busy
            : (error.serverInfo == nil || sqlState.hasPrefix("08") || sqlState.hasPrefix("57P")) ? .connection : .other
        return SQLError(code: code, message: "\(sqlState) \(message)", sql: sql)
    }

    func query(_ sql: SQL) async throws -> [SQLRow] {
        let result = try await run(sql)
        var rows: [SQLRow] = []
        rows.reserveCapacity(result.rows.count)
        var columns: SQLRow.Columns?
        for row in result.rows {
            if columns == nil { columns = SQLRow.Columns(row.map(\.columnName), sql: sql.text) }
            var values: [SQLValue] = []
            for cell in row { values.append(try PostgresSQLConnection.value(of: cell)) }
            rows.append(SQLRow(columns: columns!, values: values))
        }
        return rows
    }

    func execute(_ sql: SQL) async throws -> Int {
        let result = try await run(sql)
        return result.metadata.rows ?? 0
    }

    func insert(into table: String, columns: [String], rows: [[SQLValue]], ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        switch bulkWrites {
        case .copy: try await copyInsert(into: table, columns: columns, rows: SQLRows(rows), ignoringConflictsOn: conflict)
        case .statements: try await insertMultiRow(into: table, columns: columns, rows: rows, ignoringConflictsOn: conflict)
        }
    }

    func insert(into table: String, columns: [String], rows: SQLRows, ignoringConflictsOn conflict: [String]?) async throws -> [Bool] {
        switch bulkWrites {
        case .copy: try await copyInsert(into: table, columns: columns, rows: rows, ignoringConflictsOn: conflict)
        case .statements: try await insertMultiRow(into: table, columns: columns, rows: rows.all, ignoringConflictsOn: conflict)
        }
    }

    static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2: return .int(Int64(try cell.decode(Int16.self)))
        case .int4: return .int(Int64(try cell.decode(Int32.self)))
        case .int8: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .timestamptz, .timestamp: return .timestamp(try cell.decode(Date.self))
        case .date: return .day(try cell.decode(PostgresDay.self).day)
        case .numeric:
            // Only whole numbers are ever read back (sums of counts); money is never numeric here.
            let d = try cell.decode(Decimal.self)
            return .int(NSDecimalNumber(decimal: d).int64Value)
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// A `Day` on the wire: PostgreSQL's binary date is a 32-bit count of days since 2000-01-01.
/// A moment bound as `timestamptz`, its microseconds counted as `Timestamp.microseconds` counts
/// them (PostgresNIO's own encoding counts from 2000 in floating point, one microsecond apart from
/// the text a bulk insert writes for about one moment in fifteen).
struct PostgresTimestamp: PostgresEncodable {
    let date: Date
    /// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since 1970.
    static let epochOffset: Int64 = 946_684_800_000_000

    static var psqlType: PostgresDataType { .timestamptz }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        byteBuffer.writeInteger(Timestamp.microseconds(date) - Self.epochOffset)
    }
}

struct PostgresDay: PostgresEncodable, PostgresDecodable {
    let day: Day
    static let epochOffset = 10_957 // 2000-01-01 is day 10,957 after 1970-01-01.

    init(day: Day) { self.day = day }

    static var psqlType: PostgresDataType { .date }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        byteBuffer.writeInteger(Int32(day.daysSinceEpoch - PostgresDay.epochOffset))
    }

    init<JSONDecoder: PostgresJSONDecoder>(from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
                                           context: PostgresDecodingContext<JSONDecoder>) throws {
        switch format {
        case .binary:
            guard let days = buffer.readInteger(as: Int32.self) else { throw PostgresDecodingError.Code.missingData }
            day = Day(daysSinceEpoch: Int(days) + PostgresDay.epochOffset)
        case .text:
            guard let s = buffer.readString(length: buffer.readableBytes), let d = Day.parse(s) else {
                throw PostgresDecodingError.Code.failure
            }
            day = d
        }
    }
}

/// How long PostgreSQL work may take before its caller gets an error (`ESTEIRA_PG_TRANSACTION_TIMEOUT_SECONDS`
/// and `ESTEIRA_PG_CONNECTION_WAIT_SECONDS`).
public struct PostgresLimits: Sendable {
    /// A transaction, from asking for a connection to its commit; keep it above the longest
    /// legitimate one (a register of the largest sub-batch, a reconciliation).
    public var transaction: Double
    /// Waiting for a pooled connection. Longer means the pool is saturated or lost a connection
    /// it was opening; the caller gets an error and may try again.
    public var connectionWait: Double

    public init(transaction: Double = 600, connectionWait: Double = 10) {
        self.transaction = transaction
        self.connectionWait = connectionWait
    }
}

/// A flag set once: a transaction's caller has given up on it, or it has its connection.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// A one-way gate: `wait` returns at once after `open`, and until then waits for it.
final class StartGate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.isOpen = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLock { s -> Bool in
                if !s.isOpen { s.waiters.append(continuation) }
                return s.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}

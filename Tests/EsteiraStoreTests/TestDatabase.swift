import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import Foundation
import Logging
import PostgresNIO
import Testing

/// The databases the store's tests run on: SQLite always, PostgreSQL when
/// `ESTEIRA_TEST_POSTGRES_URL` names a server (scripts/test starts one).
enum TestDatabase {
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ESTEIRA_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var dialects: [SQLDialect] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The dialects, with PostgreSQL once per way of writing many rows, for the tests of bulk inserts.
    static var bulkVariants: [BulkVariant] {
        dialects.flatMap { d in d == .sqlite ? [BulkVariant(dialect: d, writes: .copy)] : [.init(dialect: d, writes: .copy), .init(dialect: d, writes: .statements)] }
    }

    struct BulkVariant: Sendable, CustomTestStringConvertible {
        let dialect: SQLDialect
        let writes: PostgresBulkWrites
        var testDescription: String { dialect == .sqlite ? "sqlite" : "postgres, \(writes.rawValue)" }
    }

    static let logger: Logger = {
        var l = Logger(label: "esteira-test")
        l.logLevel = .warning
        return l
    }()

    /// A fresh, migrated database of the dialect (a new file, or a new PostgreSQL database),
    /// removed after `body`.
    static func with<T: Sendable>(_ dialect: SQLDialect, postgresBulkWrites: PostgresBulkWrites = .copy, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch dialect {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = try SQLiteDatabase(path: dir + "/test.sqlite")
            try await Migrations.migrate(db)
            return try await body(db)
        case .postgres:
            guard let adminURL = postgresURL else { throw SQLError(code: .connection, message: "no PostgreSQL", sql: "") }
            let name = "esteira_t_\(UUID().uuidString.prefix(8).lowercased())"
            let admin = try PostgresDatabase(url: adminURL, logger: logger, maxConnections: 2)
            var components = URLComponents(string: adminURL)!
            components.path = "/" + name
            let db = try PostgresDatabase(url: components.string!, logger: logger, maxConnections: 20, bulkWrites: postgresBulkWrites)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await admin.run() }
                defer { group.cancelAll() }
                _ = try await admin.withConnection { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger) }
                group.addTask { await db.run() }
                do {
                    try await Migrations.migrate(db)
                    let value = try await body(db)
                    _ = try? await admin.withConnection {
                        try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
                    }
                    return value
                } catch {
                    _ = try? await admin.withConnection {
                        try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)"), logger: logger)
                    }
                    throw error
                }
            }
        }
    }

    static func temporaryBlobs() throws -> LocalBlobStore {
        try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("esteira-blobs-\(UUID().uuidString)").path)
    }
}

/// Runs a file through the whole pipeline in-process, as `esteira serve` would, and returns the final batch.
struct PipelineHarness {
    let db: any SQLDatabase
    let blobs: LocalBlobStore
    let client: ClientRecord

    static func make(_ db: any SQLDatabase, subBatchSize: Int = 3) async throws -> PipelineHarness {
        let (client, _) = try await ClientStore(db: db).create(name: "Cliente Teste", document: "11222333000181",
                                                                subBatchSize: subBatchSize, traceID: "test")
        return PipelineHarness(db: db, blobs: try TestDatabase.temporaryBlobs(), client: client)
    }

    var pipeline: Pipeline { Pipeline(db: db, blobs: blobs, logger: TestDatabase.logger) }

    /// Stores the file and records the batch (as the upload endpoint does), without running anything.
    func submit(_ bytes: [UInt8], receivedOn: Day = Day(year: 2026, month: 11, day: 22)!) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let key = BlobKeys.raw(clientID: client.id, batchID: id)
        try await blobs.put(key: key, bytes: bytes)
        try await BatchStore(db: db).create(BatchRecord(
            newID: id, clientID: client.id, source: "test", fileName: "t.csv", blobKey: key, byteSize: bytes.count,
            receivedAt: Date(), receivedOn: receivedOn, subBatchSize: client.subBatchSize, traceID: "trace-\(id.prefix(8))"))
        return id
    }

    /// Claims and runs jobs one at a time, as a worker does, until the queue has nothing left to do.
    func drain(owner: String = "test-worker") async throws {
        var settings = Worker.Settings()
        settings.concurrency = 1
        let worker = Worker(pipeline: pipeline, settings: settings)
        let queue = JobQueue(db: db)
        while true {
            if try await worker.runNext(owner: owner) { continue }
            // Nothing ready: done, unless a job was postponed for a moment (waiting for its turn).
            let waiting = try await queue.list(state: .queued).filter { $0.attempts == 0 || $0.runAt < Date().addingTimeInterval(1) }
            if waiting.isEmpty { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func run(_ text: String) async throws -> BatchRecord {
        let id = try await submit(Array(text.utf8))
        try await drain()
        return try await BatchStore(db: db).get(id: id)!
    }
}

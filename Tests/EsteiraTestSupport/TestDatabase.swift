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
public enum TestDatabase {
    public static var postgresURL: String? { ScratchPostgres.adminURL }

    public static var dialects: [SQLDialect] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The dialects, with PostgreSQL once per way of writing many rows, for the tests of bulk inserts.
    public static var bulkVariants: [BulkVariant] {
        dialects.flatMap { d in d == .sqlite ? [BulkVariant(dialect: d, writes: .copy)] : [.init(dialect: d, writes: .copy), .init(dialect: d, writes: .statements)] }
    }

    public struct BulkVariant: Sendable, CustomTestStringConvertible {
        public let dialect: SQLDialect
        public let writes: PostgresBulkWrites
        public var testDescription: String { dialect == .sqlite ? "sqlite" : "postgres, \(writes.rawValue)" }
    }

    public static var logger: Logger { ScratchPostgres.logger }

    /// A fresh, migrated database of the dialect (a new file, or a new PostgreSQL database),
    /// removed after `body`.
    public static func with<T: Sendable>(_ dialect: SQLDialect, postgresBulkWrites: PostgresBulkWrites = .copy,
                                         _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch dialect {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let db = try SQLiteDatabase(path: dir + "/test.sqlite")
            try await Migrations.migrate(db)
            return try await body(db)
        case .postgres:
            return try await ScratchPostgres.with { url in
                let db = try PostgresDatabase(url: url, logger: logger, maxConnections: 20, bulkWrites: postgresBulkWrites)
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await db.run() }
                    defer { group.cancelAll() }
                    try await Migrations.migrate(db)
                    return try await body(db)
                }
            }
        }
    }

    public static func temporaryBlobs() throws -> LocalBlobStore {
        try LocalBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("esteira-blobs-\(UUID().uuidString)").path)
    }
}

/// Runs a file through the whole pipeline in-process, as `esteira serve` would, and returns the final batch.
public struct PipelineHarness: Sendable {
    public let db: any SQLDatabase
    public let blobs: LocalBlobStore
    public let client: ClientRecord

    public init(db: any SQLDatabase, blobs: LocalBlobStore, client: ClientRecord) {
        self.db = db
        self.blobs = blobs
        self.client = client
    }

    public static func make(_ db: any SQLDatabase, subBatchSize: Int = 3) async throws -> PipelineHarness {
        let (client, _) = try await ClientStore(db: db).create(name: "Cliente Teste", document: "11222333000181",
                                                                subBatchSize: subBatchSize, traceID: "test")
        return PipelineHarness(db: db, blobs: try TestDatabase.temporaryBlobs(), client: client)
    }

    public var pipeline: Pipeline { Pipeline(db: db, blobs: blobs, logger: TestDatabase.logger) }

    /// Stores the file and records the batch (as the upload endpoint does), without running anything.
    public func submit(_ bytes: [UInt8], receivedOn: Day = Day(year: 2026, month: 11, day: 22)!) async throws -> String {
        let id = UUID().uuidString.lowercased()
        let key = BlobKeys.raw(clientID: client.id, batchID: id)
        try await blobs.put(key: key, bytes: bytes)
        try await BatchStore(db: db).create(BatchRecord(
            newID: id, clientID: client.id, source: "test", fileName: "t.csv", blobKey: key, byteSize: bytes.count,
            receivedAt: Date(), receivedOn: receivedOn, subBatchSize: client.subBatchSize, traceID: "trace-\(id.prefix(8))"))
        return id
    }

    /// Claims and runs jobs one at a time, as a worker does, until the queue has nothing left to do.
    public func drain(owner: String = "test-worker") async throws {
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

    public func run(_ text: String) async throws -> BatchRecord {
        let id = try await submit(Array(text.utf8))
        try await drain()
        return try await BatchStore(db: db).get(id: id)!
    }
}

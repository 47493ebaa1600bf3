import EsteiraBlobs
import EsteiraCore
import EsteiraRisk
import EsteiraStore
import Foundation
import Logging

/// Everything a stage needs: the database, the blob store, and where a batch's files go.
public struct Pipeline: Sendable {
    public let db: any SQLDatabase
    public let blobs: any BlobStore
    public let logger: Logger
    /// How many bytes the pick stage reads at a time.
    public var chunkSize = 1 << 20
    /// Attempts and backoff of the jobs this process enqueues and fails.
    public var retry = RetryPolicy()
    /// The risk rules the register stage judges every row by.
    public var risk: RiskService
    /// The lake's storage budget (ESTEIRA_LAKE_BUDGET_BYTES): a run that ends over it warns in the log.
    public var lakeBudgetBytes: Int?
    /// A client's rows a day when it has no quota of its own (`ESTEIRA_CLIENT_ROWS_PER_DAY`).
    public var rowsPerDay = Int.max

    public init(db: any SQLDatabase, blobs: any BlobStore, logger: Logger, risk: RiskService? = nil) {
        self.db = db
        self.blobs = blobs
        self.logger = logger
        self.risk = risk ?? RiskService(db: db, validator: nil, policy: RiskPolicy())
    }

    public var batches: BatchStore { BatchStore(db: db) }
    public var queue: JobQueue { JobQueue(db: db, retry: retry) }

    /// Runs one claimed job to its end. Throws to have the job retried.
    public func run(_ job: Job, owner: String) async throws {
        switch job.kind {
        case .pick: try await PickStage(pipeline: self).run(job, owner: owner)
        case .transform: try await TransformStage(pipeline: self).run(job, owner: owner)
        case .register: try await RegisterStage(pipeline: self).run(job, owner: owner)
        case .finalize: try await FinalizeStage(pipeline: self).run(job, owner: owner)
        case .ledger: try await LedgerStage(pipeline: self).run(job, owner: owner)
        case .lake: try await LakeStage(pipeline: self).run(job, owner: owner)
        case .cleanup: try await CleanupStage(pipeline: self).run(job, owner: owner)
        case .preview: try await PreviewStage(pipeline: self).run(job, owner: owner)
        }
    }

    /// Loads the batch of a job, locking its row on PostgreSQL, for the steps that change the batch
    /// itself (pick and finalize). Transform and register lock only their own sub-batch's row, so
    /// that the sub-batches of a batch go through at the same time.
    static func lockedBatch(_ c: any SQLConnection, id: String) async throws -> SQLRow {
        guard let row = try await c.query("""
            SELECT id, status, sub_batches, received, trace_id, client_id FROM batches WHERE id = \(id)\(c.forUpdate)
            """).first else { throw StoreError.notFound("batch \(id)") }
        return row
    }

    /// A sub-batch's staging file, read and decoded (off the cooperative pool).
    func staged(batchID: String, seq: Int) async throws -> StagedSubBatch {
        let bytes = try await blobs.readAll(key: BlobKeys.staging(batchID: batchID, seq: seq))
        return try await CPUWork.run { try StagingCodec.decodeSubBatch(bytes) }
    }

    static func subBatchStatus(_ c: any SQLConnection, batchID: String, seq: Int) async throws -> String? {
        try await c.query("SELECT status FROM sub_batches WHERE batch_id = \(batchID) AND seq = \(seq)").first?.string("status")
    }
}

/// The job cannot run yet (its turn has not come); it goes back to the queue without using an attempt.
public struct NotYet: Error, CustomStringConvertible {
    public var delay: Double
    public var reason: String
    public var description: String { "not yet: \(reason)" }
}

/// Something that should never happen (a batch without its layout, counts that do not add up).
/// The job fails and is retried like any other failure, so a dead job shows the operator what broke.
struct StageInvariantError: Error, CustomStringConvertible {
    var description: String
}

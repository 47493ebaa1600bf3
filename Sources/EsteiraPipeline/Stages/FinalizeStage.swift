import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// The open debts a full-portfolio batch left out, and whether its client withdraws them.
struct FoundMissing: Sendable {
    var batch: BatchRecord
    var clientNum: Int
    var debts: [(externalID: String, status: String)]
    var withdraw: Bool
}

/// Sums the sub-batches into the batch's counts and sets its final status; for a full-portfolio
/// file, records (and, when the client asks, withdraws) the open debts it left out.
struct FinalizeStage {
    let pipeline: Pipeline

    /// Rows a batch registers or corrects from which the registry's statistics are renewed.
    static let analyzeAfter = 50_000

    func run(_ job: Job, owner: String) async throws {
        // The missing debts are found before the transaction, from the staging files and the
        // registry; only a batch that ends here (never a failed one) has any.
        let missing = try await missing(job)
        let final: (BatchCounts, BatchStatus, Int)? = try await pipeline.db.write { [missing] c in
            let locked = try await Pipeline.lockedBatch(c, id: job.batchID)
            guard try locked.string("status") == BatchStatus.processing.rawValue else {
                try await JobQueue.complete(c, job: job, owner: owner)
                return nil
            }
            let sums = try await BatchStore.registeredSums(c, batchID: job.batchID)
            let subBatches = try locked.int("sub_batches")
            guard sums.registered == subBatches, sums.subBatches == subBatches else {
                throw StageInvariantError(description: "batch \(job.batchID): finalize before every sub-batch registered")
            }
            var counts = sums.counts
            counts.received = try locked.int("received")
            guard counts.isBalanced else {
                throw StageInvariantError(description: "batch \(job.batchID): counts do not add up: \(counts)")
            }
            let status: BatchStatus = counts.rejected > 0 ? .completedWithRejects : .completed
            let now = Date()
            try await c.execute("""
                UPDATE batches SET status = \(status.rawValue), registered = \(counts.registered), updated = \(counts.updated),
                       withdrawn = \(counts.withdrawn), duplicates = \(counts.duplicates),
                       rejected = \(counts.rejected), review = \(counts.review), updated_at = \(now), finished_at = \(now)
                WHERE id = \(job.batchID)
                """)
            if let missing {
                _ = try await MissingDebts.record(c, batch: missing.batch, clientNum: missing.clientNum, missing: missing.debts,
                                                  withdraw: missing.withdraw, now: now)
            }
            // The client's notifications, in the same transaction as the status they announce; and
            // the deletion of the staging files, which have served their purpose (the raw file stays).
            try await NotificationStore.enqueue(c, batchID: job.batchID, now: now)
            try await pipeline.queue.enqueue(c, .batch(.cleanup, batchID: job.batchID), traceID: job.traceID)
            try await JobQueue.complete(c, job: job, owner: owner)
            return (counts, status, subBatches)
        }
        guard let (counts, status, _) = final else { return }
        // After a large batch PostgreSQL's statistics of the registry are those of a much smaller
        // one until autovacuum comes by: a query by key range (the portfolio's export reads by
        // slices) is then planned as a scan and sort of the whole range, once per slice. Analyzing
        // now costs a sample of the table.
        if pipeline.db.dialect == .postgres, counts.registered + counts.updated >= Self.analyzeAfter {
            do {
                try await pipeline.db.write { c in try await c.execute("ANALYZE debts") }
            } catch {
                pipeline.logger.warning("could not analyze the registry", metadata: ["batch_id": "\(job.batchID)", "error": "\(error)"])
            }
        }
        var log = pipeline.logger
        log[metadataKey: "batch_id"] = "\(job.batchID)"
        log[metadataKey: "trace_id"] = "\(job.traceID)"
        log.info("batch finished", metadata: [
            "status": "\(status.rawValue)", "received": "\(counts.received)", "registered": "\(counts.registered)",
            "updated": "\(counts.updated)", "withdrawn": "\(counts.withdrawn)",
            "duplicates": "\(counts.duplicates)", "rejected": "\(counts.rejected)", "review": "\(counts.review)",
        ])
    }

    func missing(_ job: Job) async throws -> FoundMissing? {
        guard let batch = try await pipeline.batches.get(id: job.batchID), batch.fullPortfolio, batch.status == .processing else { return nil }
        let clients = ClientStore(db: pipeline.db)
        guard let client = try await clients.get(id: batch.clientID) else {
            throw StageInvariantError(description: "client \(batch.clientID) of batch \(batch.id) does not exist")
        }
        return FoundMissing(batch: batch, clientNum: client.num, debts: try await MissingDebts(pipeline: pipeline).find(batch, clientNum: client.num),
                            withdraw: try await clients.withdrawsMissing(clientID: client.id))
    }
}

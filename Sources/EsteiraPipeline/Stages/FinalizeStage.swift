import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// Sums the sub-batches into the batch's counts and sets its final status.
struct FinalizeStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        let final: (BatchCounts, BatchStatus, Int)? = try await pipeline.db.write { c in
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
            // The client's notifications, in the same transaction as the status they announce; and
            // the deletion of the staging files, which have served their purpose (the raw file stays).
            try await NotificationStore.enqueue(c, batchID: job.batchID, now: now)
            try await pipeline.queue.enqueue(c, .batch(.cleanup, batchID: job.batchID), traceID: job.traceID)
            try await JobQueue.complete(c, job: job, owner: owner)
            return (counts, status, subBatches)
        }
        guard let (counts, status, _) = final else { return }
        var log = pipeline.logger
        log[metadataKey: "batch_id"] = "\(job.batchID)"
        log[metadataKey: "trace_id"] = "\(job.traceID)"
        log.info("batch finished", metadata: [
            "status": "\(status.rawValue)", "received": "\(counts.received)", "registered": "\(counts.registered)",
            "updated": "\(counts.updated)", "withdrawn": "\(counts.withdrawn)",
            "duplicates": "\(counts.duplicates)", "rejected": "\(counts.rejected)", "review": "\(counts.review)",
        ])
    }
}

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
            let sums = try await c.query("""
                SELECT COUNT(*) AS subs, CAST(COALESCE(SUM(registered), 0) AS BIGINT) AS registered, CAST(COALESCE(SUM(duplicates), 0) AS BIGINT) AS duplicates,
                       CAST(COALESCE(SUM(rejected), 0) AS BIGINT) AS rejected, CAST(COALESCE(SUM(review), 0) AS BIGINT) AS review,
                       CAST(COALESCE(SUM(CASE WHEN status = 'registered' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done
                FROM sub_batches WHERE batch_id = \(job.batchID)
                """)[0]
            let subBatches = try locked.int("sub_batches")
            guard try sums.int("done") == subBatches, try sums.int("subs") == subBatches else {
                throw StageInvariantError(description: "batch \(job.batchID): finalize before every sub-batch registered")
            }
            let counts = BatchCounts(received: try locked.int("received"), registered: try sums.int("registered"),
                                     duplicates: try sums.int("duplicates"), rejected: try sums.int("rejected"),
                                     review: try sums.int("review"))
            guard counts.isBalanced else {
                throw StageInvariantError(description: "batch \(job.batchID): counts do not add up: \(counts)")
            }
            let status: BatchStatus = counts.rejected > 0 ? .completedWithRejects : .completed
            let now = Date()
            try await c.execute("""
                UPDATE batches SET status = \(status.rawValue), registered = \(counts.registered), duplicates = \(counts.duplicates),
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
            "duplicates": "\(counts.duplicates)", "rejected": "\(counts.rejected)", "review": "\(counts.review)",
        ])
    }
}

import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// Deletes a finished batch's staging files (one per sub-batch). A delete that fails throws, so
/// the job is retried with backoff like any step and, out of attempts, dies where operators see
/// it (`jobs list --state dead`, the `job.dead` alert): a staging file is never left behind in
/// silence. Deleting what is already gone is not a failure, so a retry is harmless.
struct CleanupStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        let subBatches = try await pipeline.db.query("SELECT sub_batches FROM batches WHERE id = \(job.batchID)").first?.int("sub_batches") ?? 0
        var failures: [String] = []
        for seq in 0..<subBatches {
            let key = BlobKeys.staging(batchID: job.batchID, seq: seq)
            do {
                try await pipeline.blobs.delete(key: key)
            } catch {
                failures.append("\(key): \(error)")
            }
        }
        guard failures.isEmpty else {
            var log = pipeline.logger
            log[metadataKey: "batch_id"] = "\(job.batchID)"
            log.warning("staging files not deleted; the cleanup will be retried", metadata: ["files": "\(failures.joined(separator: "; "))"])
            throw StageInvariantError(description: "\(failures.count) staging file(s) not deleted: \(failures.joined(separator: "; "))")
        }
        try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
    }
}

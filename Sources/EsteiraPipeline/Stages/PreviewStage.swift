import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// A dry run's last step: every staged row replayed, in file order, over the registry as it
/// stands (`PortfolioReplay`), and the preview kept with the batch, which waits `previewed` for
/// its client to confirm it. Nothing is written to the registry. The risk rules are not run: they
/// judge at registration, and the external service is not called for a preview.
struct PreviewStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        guard let batch = try await pipeline.batches.get(id: job.batchID) else {
            throw StageInvariantError(description: "batch \(job.batchID) does not exist")
        }
        guard batch.status == .processing, batch.dryRun else {
            try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
            return
        }
        guard let client = try await ClientStore(db: pipeline.db).get(id: batch.clientID) else {
            throw StageInvariantError(description: "client \(batch.clientID) of batch \(batch.id) does not exist")
        }
        // Two passes over the staging files, one at a time in memory: the external ids the file
        // names, then the replay.
        var named = Set<String>()
        for seq in 0..<batch.subBatches {
            let sub = try await pipeline.staged(batchID: batch.id, seq: seq)
            for summary in sub.summaries { named.insert(summary.externalID) }
            for withdrawal in sub.withdrawals { named.insert(withdrawal.externalID) }
        }
        let ids = Array(named)
        let registered = try await pipeline.db.read { c in try await DebtRegistry.standing(c, clientNum: client.num, externalIDs: ids) }
        var replay = PortfolioReplay(registered: registered)
        var preview = BatchPreview()
        for seq in 0..<batch.subBatches {
            let sub = try await pipeline.staged(batchID: batch.id, seq: seq)
            var d = 0, w = 0, r = 0
            for kind in sub.order {
                switch kind {
                case .debt:
                    let line = sub.debtLines[d]
                    let (effect, issue) = sub.isCorrection[d] ? replay.correct(sub.debt(d), line: line) : replay.include(sub.debt(d), line: line)
                    preview.add(effect, line: line, issues: issue.map { [$0] } ?? [])
                    d += 1
                case .withdrawal:
                    let row = sub.withdrawals[w]
                    let (effect, issue) = replay.withdraw(row.externalID, line: row.line)
                    preview.add(effect, line: row.line, issues: issue.map { [$0] } ?? [])
                    w += 1
                case .rejected:
                    preview.add(.rejected, line: sub.rejected[r].line, issues: sub.rejected[r].issues)
                    r += 1
                }
            }
        }
        let report = try JSONText.encoded(preview)
        try await pipeline.db.write { c in
            let locked = try await Pipeline.lockedBatch(c, id: batch.id)
            if try locked.string("status") == BatchStatus.processing.rawValue {
                let now = Date()
                try await c.execute("INSERT INTO batch_previews (batch_id, report, created_at) VALUES (\(batch.id), \(report), \(now))")
                try await c.execute("UPDATE batches SET status = \(BatchStatus.previewed.rawValue), updated_at = \(now) WHERE id = \(batch.id)")
            }
            try await JobQueue.complete(c, job: job, owner: owner)
        }
    }
}

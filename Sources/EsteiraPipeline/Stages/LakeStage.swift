import EsteiraBlobs
import EsteiraCore
import EsteiraLake
import EsteiraStore
import Foundation

/// Runs a month of the lake whose two files are in the inbox (`lake/inbox/tb_faturas_AAAAMM.csv`
/// and `tb_pagamentos_…`): raw → curated → the book as of the first day of the next month, the run
/// recorded. A refused file ends the job (the run is recorded as failed, with why); anything else
/// is retried with backoff, and dead after its last attempt.
struct LakeStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        guard let month = LakeMonth(job.batchID) else {
            throw StageInvariantError(description: "lake job for \(job.batchID), not a month")
        }
        var files: [LakeRunner.Input] = []
        for table in LakeTable.allCases {
            files.append(.init(table: table, fileName: month.fileName(table), bytes: try await pipeline.blobs.readAll(key: month.inboxKey(table))))
        }
        do {
            let outcome = try await LakeRunner(db: pipeline.db, blobs: pipeline.blobs)
                .run(month: month, reference: month.adding(months: 1).first, files: files)
            pipeline.logger.info("lake month run", metadata: ["month": "\(job.batchID)", "run": "\(outcome.runID)"])
        } catch let problem as LakeFile.Problem {
            pipeline.logger.error("lake month refused", metadata: ["month": "\(job.batchID)", "problem": "\(problem)"])
        }
        try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
    }
}

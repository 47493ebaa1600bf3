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
        let parts = job.batchID.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let month = Int(parts[1]), let first = Day(year: year, month: month, day: 1) else {
            throw StageInvariantError(description: "lake job for \(job.batchID), not a month")
        }
        var files: [LakeRunner.Input] = []
        for table in LakeTable.allCases {
            let name = String(format: "\(table.fileStem)_%04d%02d.csv", year, month)
            files.append(.init(table: table, fileName: name, bytes: try await pipeline.blobs.readAll(key: "lake/inbox/\(name)")))
        }
        do {
            let outcome = try await LakeRunner(db: pipeline.db, blobs: pipeline.blobs)
                .run(year: year, month: month, reference: first.adding(months: 1), files: files)
            pipeline.logger.info("lake month run", metadata: ["month": "\(job.batchID)", "run": "\(outcome.runID)"])
        } catch let problem as LakeFile.Problem {
            pipeline.logger.error("lake month refused", metadata: ["month": "\(job.batchID)", "problem": "\(problem)"])
        }
        try await pipeline.db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
    }
}

import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation
import Metrics

/// Validates the staging rows of one sub-batch and registers the valid debts, in one transaction
/// with the sub-batch's counts, its rejects and the job's completion: it happens whole or not at all,
/// and a second run finds the sub-batch registered and changes nothing.
///
/// Sub-batches of a batch commit in file order, so that "the registry keeps the first" means the
/// first in the file. The work that needs no database (reading the staging file, validating) runs
/// while the sub-batch before is still being written; the commit then waits for it. A register
/// step that finds its predecessor not even started goes back to the queue (`NotYet`).
struct RegisterStage {
    let pipeline: Pipeline

    struct Outcome {
        var registered = 0
        var duplicates = 0
        var rejected = 0
        var alreadyDone = false
        var timings: [String: Double] = [:]
    }

    func run(_ job: Job, owner: String) async throws {
        let started = ContinuousClock.now
        guard let batch = try await pipeline.batches.get(id: job.batchID) else {
            throw StageInvariantError(description: "batch \(job.batchID) does not exist")
        }
        let seq = job.seq
        guard let clientNum = try await ClientStore(db: pipeline.db).get(id: batch.clientID)?.num else {
            throw StageInvariantError(description: "client \(batch.clientID) of batch \(batch.id) does not exist")
        }
        if seq > 0, try await !predecessorUnderway(batchID: batch.id, seq: seq) {
            throw NotYet(delay: 0.05, reason: "sub-batch \(seq - 1) is not being registered yet")
        }
        let staged = try StagingCodec.decode(try await pipeline.blobs.readAll(key: BlobKeys.staging(batchID: batch.id, seq: seq)))

        // Validation needs no database: do it before taking the write lock.
        let validator = DebtValidator(receivedOn: batch.receivedOn)
        var valid: [(debt: Debt, line: Int, raw: String)] = []
        var rejects: [RejectRecord] = []
        var rejectedRows = 0
        for row in staged {
            switch validator.validate(row) {
            case .valid(let debt): valid.append((debt, row.line, row.raw))
            case .invalid(let issues):
                rejectedRows += 1
                for issue in issues {
                    rejects.append(RejectRecord(line: issue.line, field: issue.field?.rawValue ?? "", code: issue.code.rawValue,
                                                message: issue.message, raw: row.raw))
                }
            }
        }
        // The first row of each external_id is the candidate; later ones are judged against what the registry keeps.
        var firstIndex: [String: Int] = [:]
        var candidates: [(debt: Debt, line: Int)] = []
        for (i, v) in valid.enumerated() where firstIndex[v.debt.externalID] == nil {
            firstIndex[v.debt.externalID] = i
            candidates.append((v.debt, v.line))
        }
        let candidateList = candidates
        let candidateRows = DebtRegistry.rows(clientNum: clientNum, batchID: batch.id, traceID: batch.traceID, debts: candidates)
        let firstOf = firstIndex
        let validRows = valid
        let invalidRejects = rejects
        let invalidCount = rejectedRows

        let prepared = ContinuousClock.now
        let outcome: Outcome = try await pipeline.db.write { c in
            let began = ContinuousClock.now
            let locked = try await Pipeline.lockedBatch(c, id: batch.id)
            let subBatches = try locked.int("sub_batches")
            var outcome = Outcome()
            if try await Pipeline.subBatchStatus(c, batchID: batch.id, seq: seq) == "registered" {
                outcome.alreadyDone = true
            } else if seq > 0, try await Pipeline.subBatchStatus(c, batchID: batch.id, seq: seq - 1) != "registered" {
                throw NotYet(delay: 0.05, reason: "sub-batch \(seq - 1) is not registered yet")
            } else {
                let t1 = ContinuousClock.now
                let flags = try await DebtRegistry.insertNew(c, rows: candidateRows)
                let t2 = ContinuousClock.now
                outcome.timings["insert_ms"] = (t2 - t1) / .milliseconds(1)
                let inserted = Set(zip(candidateList, flags).compactMap { $1 ? $0.debt.externalID : nil })
                let others = candidateList.map(\.debt.externalID).filter { !inserted.contains($0) }
                var kept = try await DebtRegistry.existing(c, clientNum: clientNum, externalIDs: others)
                for cand in candidateList where inserted.contains(cand.debt.externalID) { kept[cand.debt.externalID] = cand.debt }

                var rejects = invalidRejects
                outcome.rejected = invalidCount
                for (i, v) in validRows.enumerated() {
                    let id = v.debt.externalID
                    if firstOf[id] == i && inserted.contains(id) {
                        outcome.registered += 1
                    } else if let registered = kept[id], registered.hasSameContent(as: v.debt) {
                        outcome.duplicates += 1
                    } else {
                        outcome.rejected += 1
                        rejects.append(RejectRecord(
                            line: v.line, field: DebtField.externalID.rawValue, code: RejectCode.conflict.rawValue,
                            message: "A dívida \(id) já está registrada com outro conteúdo; o registro existente foi mantido.",
                            raw: v.raw))
                    }
                }
                try await DebtRegistry.insertRejects(c, batchID: batch.id, rejects: rejects)
                try await c.execute("""
                    UPDATE sub_batches SET status = 'registered', registered = \(outcome.registered),
                           duplicates = \(outcome.duplicates), rejected = \(outcome.rejected), updated_at = \(Date())
                    WHERE batch_id = \(batch.id) AND seq = \(seq)
                    """)
            }
            try await JobQueue.complete(c, job: job, owner: owner)
            // Sub-batches commit in order, so the last one committing means all have.
            if seq + 1 == subBatches {
                try await pipeline.queue.enqueue(c, kind: .finalize, batchID: batch.id, seq: -1, traceID: batch.traceID)
            }
            outcome.timings["wait_ms"] = (began - prepared) / .milliseconds(1)
            outcome.timings["txn_ms"] = (ContinuousClock.now - began) / .milliseconds(1)
            return outcome
        }
        let committed = ContinuousClock.now
        guard !outcome.alreadyDone else { return }
        pipeline.logger.debug("register timings", metadata: [
            "batch_id": "\(batch.id)", "sub_batch": "\(seq)", "prepare_ms": "\(Int((prepared - started) / .milliseconds(1)))",
            "commit_ms": "\(Int((committed - prepared) / .milliseconds(1)) - Int(outcome.timings["wait_ms"] ?? 0) - Int(outcome.timings["txn_ms"] ?? 0))",
        ].merging(outcome.timings.mapValues { "\(Int($0))" }) { $1 })
        let client = [("client", batch.clientID)]
        Counter(label: "esteira_rows_registered_total", dimensions: client).increment(by: outcome.registered)
        Counter(label: "esteira_rows_duplicated_total", dimensions: client).increment(by: outcome.duplicates)
        Counter(label: "esteira_rows_rejected_total", dimensions: client).increment(by: outcome.rejected)
    }

    /// The sub-batch before is registered, or its register step is running now.
    func predecessorUnderway(batchID: String, seq: Int) async throws -> Bool {
        let row = try await pipeline.db.query("""
            SELECT s.status AS status, j.state AS state FROM sub_batches s
            LEFT JOIN jobs j ON j.kind = 'register' AND j.batch_id = s.batch_id AND j.seq = s.seq
            WHERE s.batch_id = \(batchID) AND s.seq = \(seq - 1)
            """).first
        guard let row else { return false }
        return try row.string("status") == "registered" || row.optionalString("state") == JobState.running.rawValue
    }
}

import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import EsteiraTelemetry
import Foundation
import Metrics

/// Registers the valid debts of one sub-batch (validated by the transform stage), in one
/// transaction with the sub-batch's counts, its rejects and the job's completion: it happens whole
/// or not at all, and a second run finds the sub-batch registered and changes nothing.
///
/// Sub-batches of a batch commit in file order, so that "the registry keeps the first" means the
/// first in the file. The queue hands out register k only once k-1 is running or done, and the
/// work that needs no database (reading the staging file, building the rows) runs meanwhile.
///
/// Where the database has row locks (PostgreSQL), register k also inserts while k-1 is still in
/// its transaction, and only its commit waits for k-1's: it waits on k-1's sub-batch row, which
/// k-1 holds locked from the start of its transaction to its commit. The order of the registry
/// still holds: a key that k-1 inserted first makes k's insert wait for k-1 and then see it taken;
/// a key that k inserted first makes k-1 wait for k while k waits for k-1, a deadlock that
/// PostgreSQL breaks by aborting one, and either way k goes back to the queue and k-1 commits
/// first. On SQLite (one writer at a time) k starts only once k-1 has committed. Whenever k-1 is
/// neither committed nor under way, the step goes back to the queue (`NotYet`).
///
/// Two such transactions of a batch are open at a time (`lanes`): register k, once prepared,
/// waits for k-2's commit before opening its own. The queue hands out k only once k-3 is done
/// (`JobQueue.orderedWindow`), so a third register prepares meanwhile and the worker's other
/// slots transform: PostgreSQL always has the next sub-batch's rows ready to insert, and the
/// slots are not all waiting on it at once (docs/architecture.md).
struct RegisterStage {
    let pipeline: Pipeline

    /// How many register transactions of one batch may be open at once on PostgreSQL.
    static let lanes = 2

    /// A sub-batch's staged records sorted for the registry, before any database work.
    struct Prepared: Sendable {
        /// The sub-batch's staged rows, as decoded.
        var staged = StagedSubBatch()
        /// Rows that passed validation and the risk rules, in file order: the index of each among
        /// the staged debts (which are not copied), and of its external_id's candidate.
        var valid: [(debt: Int, candidate: Int)] = []
        /// The first valid row of each external_id: the ones offered to the registry, as the index
        /// of each among the staged debts, with its line and the risk rules' review when they flagged it.
        var candidates: [(index: Int, line: Int, review: DebtReview?)] = []
        /// Index in `valid` of each candidate.
        var candidateRow: [Int] = []
        /// The rows of every external_id that a correction or a withdrawal of this sub-batch names,
        /// in file order, applied after the sub-batch before has committed. An external id with
        /// that one row only is in `together` (`DebtOperations`, by slices); the others' rows go
        /// one by one, so that each sees what the rows before it did (an inclusion then its
        /// withdrawal ends withdrawn).
        var sequential: [Step] = []
        /// Each step of `together` with its operation, decoded before the write lock is taken.
        var together: [(step: Step, operation: DebtOperations.Operation)] = []
        var rejects: [RejectRecord] = []
        var rejectedRows = 0
    }

    /// One row applied in file order (see `Prepared.sequential`): an inclusion (staged debt k, with
    /// the risk rules' review), a correction (staged debt k) or a withdrawal (staged withdrawal w).
    enum Step: Sendable {
        case include(Int, review: DebtReview?)
        case correct(Int)
        case withdraw(Int)
    }

    struct Outcome {
        var registered = 0
        var updated = 0
        var withdrawn = 0
        var duplicates = 0
        var rejected = 0
        /// Of the registered, how many the risk rules flagged for review.
        var review = 0
        var alreadyDone = false
        /// Time spent waiting for the writer, holding it, inserting debts, and waiting in the
        /// transaction for the sub-batch before to commit.
        var waited = Duration.zero
        var held = Duration.zero
        var inserting = Duration.zero
        var waitedForPrevious = Duration.zero
    }

    func run(_ job: Job, owner: String) async throws {
        let started = ContinuousClock.now
        guard let batch = try await pipeline.batches.get(id: job.batchID) else {
            throw StageInvariantError(description: "batch \(job.batchID) does not exist")
        }
        let seq = job.seq
        guard let client = try await ClientStore(db: pipeline.db).get(id: batch.clientID) else {
            throw StageInvariantError(description: "client \(batch.clientID) of batch \(batch.id) does not exist")
        }
        let clientNum = client.num
        // Decoding, judging, sorting and building the rows need no write: done before taking the
        // write lock, the CPU-bound parts off the cooperative pool (see CPUWork).
        let staged = try await pipeline.staged(batchID: batch.id, seq: seq)
        // The risk rules judge every valid row, as of the day the batch was received.
        let decisions = try await pipeline.risk.judge(staged.summaries, policy: pipeline.risk.policy(for: client), today: batch.receivedOn)
        let batchID = batch.id, dialect = pipeline.db.dialect, stamp = DebtRegistry.batchStamp(for: dialect)
        let (prepared, candidateRows) = try await CPUWork.run {
            let prepared = RegisterStage.prepare(staged, decisions: decisions)
            return (prepared, DebtRegistry.rows(clientNum: clientNum, batchID: batchID, staged: prepared.staged,
                                                picks: prepared.candidates, stamp: stamp, dialect: dialect))
        }

        let preparedAt = ContinuousClock.now
        if pipeline.db.dialect == .postgres, seq >= Self.lanes {
            try await pipeline.db.write { c in
                try await RegisterStage.waitUntilRegistered(c, batchID: batchID, seq: seq - Self.lanes)
            }
        }
        let ready = ContinuousClock.now
        let outcome: Outcome
        do {
            outcome = try await pipeline.db.write { c in
                let began = ContinuousClock.now
                var outcome = try await register(c, job: job, owner: owner, batch: batch, clientNum: clientNum,
                                                 prepared: prepared, candidateRows: candidateRows)
                outcome.waited = began - ready
                outcome.held = ContinuousClock.now - began
                return outcome
            }
        } catch let error as SQLError where error.code == .busy {
            // PostgreSQL broke a deadlock with the sub-batch before (see above): try again shortly.
            throw NotYet(delay: 0.02, reason: "deadlock with sub-batch \(seq - 1): \(error.message)")
        }
        guard !outcome.alreadyDone else { return }
        let committing = ContinuousClock.now - ready - outcome.waited - outcome.held
        func ms(_ d: Duration) -> String { "\(Int(d / .milliseconds(1)))" }
        pipeline.logger.debug("register timings", metadata: [
            "batch_id": "\(batch.id)", "sub_batch": "\(seq)", "prepare_ms": "\(ms(preparedAt - started))",
            "lane_ms": "\(ms(ready - preparedAt))",
            "wait_ms": "\(ms(outcome.waited))", "txn_ms": "\(ms(outcome.held))", "insert_ms": "\(ms(outcome.inserting))",
            "previous_ms": "\(ms(outcome.waitedForPrevious))",
            "commit_ms": "\(ms(committing))",
        ])
        let dimensions = [("client", batch.clientID)]
        Counter(label: MetricName.rowsRegistered, dimensions: dimensions).increment(by: outcome.registered)
        Counter(label: MetricName.rowsUpdated, dimensions: dimensions).increment(by: outcome.updated)
        Counter(label: MetricName.rowsWithdrawn, dimensions: dimensions).increment(by: outcome.withdrawn)
        Counter(label: MetricName.rowsDuplicated, dimensions: dimensions).increment(by: outcome.duplicates)
        Counter(label: MetricName.rowsRejected, dimensions: dimensions).increment(by: outcome.rejected)
        Counter(label: MetricName.rowsReview, dimensions: dimensions).increment(by: outcome.review)
    }

    /// The step's transaction: inserts the new debts, classifies the other valid rows as duplicates
    /// or conflicts, records the rejects and the counts, and completes the job.
    func register(_ c: any SQLConnection, job: Job, owner: String, batch: BatchRecord, clientNum: Int,
                  prepared: Prepared, candidateRows: DebtRows) async throws -> Outcome {
        let seq = job.seq
        var outcome = Outcome()
        // This sub-batch's row stays locked until the commit: a second run of the same step
        // waits here, then finds it registered; register k+1 waits on it before committing.
        let own = try await c.query("""
            SELECT status FROM sub_batches WHERE batch_id = \(batch.id) AND seq = \(seq)\(c.forUpdate)
            """).first
        guard let own else { throw StageInvariantError(description: "sub-batch \(batch.id)/\(seq) does not exist") }
        // A batch cancelled meanwhile registers nothing more. The share lock makes the check
        // hold until the commit: the cancellation locks the batch's row for update.
        let status = try await c.query("SELECT status FROM batches WHERE id = \(batch.id)\(c.forShare)").first?.string("status")
        if status == BatchStatus.cancelled.rawValue {
            outcome.alreadyDone = true
            try await JobQueue.complete(c, job: job, owner: owner)
            return outcome
        }
        if try own.string("status") == "registered" {
            outcome.alreadyDone = true
        } else {
            let previousCommitted = try await RegisterStage.previousTurn(c, batchID: batch.id, seq: seq)
            let insertStart = ContinuousClock.now
            let flags = try await DebtRegistry.insertNew(c, rows: candidateRows)
            outcome.inserting = ContinuousClock.now - insertStart
            if !previousCommitted {
                let waitStart = ContinuousClock.now
                try await RegisterStage.waitUntilRegistered(c, batchID: batch.id, seq: seq - 1)
                outcome.waitedForPrevious = ContinuousClock.now - waitStart
            }
            // Candidates that did not go in: their external_id was registered before, by an
            // earlier sub-batch or batch. Their kept debt is read back to compare contents.
            let staged = prepared.staged
            let missed = zip(prepared.candidates, flags).compactMap { $1 ? nil : staged.summaries[$0.index].externalID }
            let kept = try await DebtRegistry.existing(c, clientNum: clientNum, externalIDs: missed)

            var rejects = prepared.rejects
            outcome.rejected = prepared.rejectedRows
            for (i, v) in prepared.valid.enumerated() {
                let same: Bool
                if flags[v.candidate] {
                    if prepared.candidateRow[v.candidate] == i {
                        outcome.registered += 1
                        continue
                    }
                    same = staged.debt(prepared.candidates[v.candidate].index).hasSameContent(as: staged.debt(v.debt))
                } else if let found = kept[staged.summaries[v.debt].externalID] {
                    same = found.hasSameContent(as: staged.debt(v.debt))
                } else {
                    throw StageInvariantError(description: "debt \(staged.summaries[v.debt].externalID) was neither inserted nor found")
                }
                if same {
                    outcome.duplicates += 1
                } else {
                    outcome.rejected += 1
                    rejects.append(Self.conflict(staged.summaries[v.debt].externalID, line: staged.debtLines[v.debt], raw: staged.debtRaw(v.debt)))
                }
            }
            var clock = HistoryClock()
            try await applyTogether(c, prepared, batch: batch, clientNum: clientNum, clock: &clock,
                                    outcome: &outcome, rejects: &rejects)
            try await applyInOrder(c, prepared.sequential, staged: staged, batch: batch, clientNum: clientNum, clock: &clock,
                                   outcome: &outcome, rejects: &rejects)
            try await DebtRegistry.insertRejects(c, batchID: batch.id, rejects: rejects)
            let reviews = prepared.candidates.indices.compactMap { k in
                flags[k] ? prepared.candidates[k].review.map { (staged.summaries[prepared.candidates[k].index].externalID, $0) } : nil
            }
            outcome.review = reviews.count
            try await DebtRegistry.insertReviews(c, clientNum: clientNum, reviews: reviews)
            // Each debt registered now gets its slip, when the client collects through Esteira.
            let registeredNow = prepared.candidates.indices.lazy.compactMap { k in
                flags[k] ? SlipRequest(staged.debt(prepared.candidates[k].index)) : nil
            }
            try await BankslipStore.issue(c, clientID: batch.clientID, clientNum: clientNum, debts: registeredNow,
                                          today: Day(Date(), in: Day.saoPaulo))
            try await c.execute("""
                UPDATE sub_batches SET status = 'registered', registered = \(outcome.registered), updated = \(outcome.updated),
                       withdrawn = \(outcome.withdrawn),
                       duplicates = \(outcome.duplicates), rejected = \(outcome.rejected), review = \(outcome.review),
                       updated_at = \(Date())
                WHERE batch_id = \(batch.id) AND seq = \(seq)
                """)
        }
        try await JobQueue.complete(c, job: job, owner: owner)
        // Sub-batches commit in order, so the last one committing means all have.
        if seq + 1 == batch.subBatches {
            try await pipeline.queue.enqueue(c, .batch(.finalize, batchID: batch.id), traceID: batch.traceID)
        }
        return outcome
    }

    /// R009: the external id is registered with other content.
    static func conflict(_ externalID: String, line: Int, raw: String) -> RejectRecord {
        let issue = PortfolioReplay.conflict(externalID, line: line)
        return RejectRecord(line: line, field: DebtField.externalID.rawValue, code: issue.code.rawValue, message: issue.message, raw: raw)
    }

    /// Applies the rows of `Prepared.sequential` one by one, in the step's transaction, through the
    /// same corrections and withdrawals as the API's (each an event of the debt's history, with the
    /// batch and line as its actor). The sub-batch before has committed.
    func applyInOrder(_ c: any SQLConnection, _ steps: [Step], staged: StagedSubBatch, batch: BatchRecord, clientNum: Int,
                      clock: inout HistoryClock, outcome: inout Outcome, rejects: inout [RejectRecord]) async throws {
        guard !steps.isEmpty else { return }
        func reject(_ line: Int, _ raw: String, _ field: DebtField, _ code: RejectCode, _ message: String) {
            outcome.rejected += 1
            rejects.append(RejectRecord(line: line, field: field.rawValue, code: code.rawValue, message: message, raw: raw))
        }
        for step in steps {
            let now = clock.next()
            switch step {
            case .include(let k, let review):
                let debt = staged.debt(k), line = staged.debtLines[k]
                let rows = DebtRegistry.rows(clientNum: clientNum, batchID: batch.id, debts: [DebtCandidate(debt: debt, line: line, review: review)],
                                             stamp: now)
                if try await DebtRegistry.insertNew(c, rows: rows) == [true] {
                    outcome.registered += 1
                    if let review {
                        outcome.review += 1
                        try await DebtRegistry.insertReviews(c, clientNum: clientNum, reviews: [(debt.externalID, review)], now: now)
                    }
                    try await BankslipStore.issue(c, clientID: batch.clientID, clientNum: clientNum, debts: [SlipRequest(debt)],
                                                  today: Day(now, in: Day.saoPaulo), now: now)
                } else if let kept = try await DebtRegistry.existing(c, clientNum: clientNum, externalIDs: [debt.externalID])[debt.externalID],
                          kept.hasSameContent(as: debt) {
                    outcome.duplicates += 1
                } else {
                    outcome.rejected += 1
                    rejects.append(Self.conflict(debt.externalID, line: line, raw: staged.debtRaw(k)))
                }
            case .correct(let k):
                let debt = staged.debt(k), line = staged.debtLines[k]
                let actor = DebtEventActor(kind: .batch, id: batch.id, line: line)
                do {
                    let corrected = try await DebtCorrections.correct(c, clientNum: clientNum, to: debt, actor: actor, now: now)
                    if corrected.changed.isEmpty { outcome.duplicates += 1 } else { outcome.updated += 1 }
                } catch StoreError.notFound {
                    let issue = PortfolioReplay.notRegistered(debt.externalID, line: line)
                    reject(line, staged.debtRaw(k), .externalID, .debtNotRegistered, issue.message)
                } catch let refusal as CorrectionRefusal {
                    let refused = refusal.reject(of: debt)
                    reject(line, staged.debtRaw(k), refused.field, refused.code, refused.message)
                }
            case .withdraw(let w):
                let row = staged.withdrawals[w]
                let actor = DebtEventActor(kind: .batch, id: batch.id, line: row.line)
                do {
                    let withdrawn = try await DebtWithdrawals.withdraw(c, clientNum: clientNum, externalID: row.externalID, reason: row.reason,
                                                                       note: nil, actor: actor, now: now)
                    if withdrawn.duplicate { outcome.duplicates += 1 } else { outcome.withdrawn += 1 }
                } catch StoreError.notFound {
                    let issue = PortfolioReplay.notRegistered(row.externalID, line: row.line, withdrawal: true)
                    reject(row.line, row.raw, .externalID, .debtNotRegistered, issue.message)
                }
            }
        }
    }

    /// Applies the corrections and withdrawals of `Prepared.together` (one row per external id) by
    /// slices (`DebtOperations`), with the same codes as one by one.
    func applyTogether(_ c: any SQLConnection, _ prepared: Prepared, batch: BatchRecord, clientNum: Int,
                       clock: inout HistoryClock, outcome: inout Outcome, rejects: inout [RejectRecord]) async throws {
        let together = prepared.together, staged = prepared.staged
        guard !together.isEmpty else { return }
        // Only the moment of each is taken here, in the lock: the operations were decoded before.
        var items: [DebtOperations.Item] = []
        items.reserveCapacity(together.count)
        for (step, operation) in together {
            items.append(.init(operation, actor: DebtEventActor(kind: .batch, id: batch.id, line: Self.line(of: step, in: staged)),
                               at: clock.next()))
        }
        let results = try await DebtOperations.apply(c, clientNum: clientNum, items)
        for (i, result) in results.enumerated() {
            let step = together[i].step, line = Self.line(of: step, in: staged)
            switch result {
            case .applied: if case .withdraw = step { outcome.withdrawn += 1 } else { outcome.updated += 1 }
            case .unchanged: outcome.duplicates += 1
            case .notRegistered:
                let isWithdrawal = if case .withdraw = step { true } else { false }
                let issue = PortfolioReplay.notRegistered(items[i].operation.externalID, line: line, withdrawal: isWithdrawal)
                outcome.rejected += 1
                rejects.append(RejectRecord(line: line, field: DebtField.externalID.rawValue, code: issue.code.rawValue,
                                            message: issue.message, raw: Self.raw(of: step, in: staged)))
            case .refused(let refusal):
                guard case .correct(let debt) = items[i].operation else { continue }
                let refused = refusal.reject(of: debt)
                outcome.rejected += 1
                rejects.append(RejectRecord(line: line, field: refused.field.rawValue, code: refused.code.rawValue,
                                            message: refused.message, raw: Self.raw(of: step, in: staged)))
            }
        }
    }

    /// The file's line of a step, and its text (read only for a reject).
    static func line(of step: Step, in staged: StagedSubBatch) -> Int {
        switch step {
        case .include(let k, _), .correct(let k): staged.debtLines[k]
        case .withdraw(let w): staged.withdrawals[w].line
        }
    }

    static func raw(of step: Step, in staged: StagedSubBatch) -> String {
        switch step {
        case .include(let k, _), .correct(let k): staged.debtRaw(k)
        case .withdraw(let w): staged.withdrawals[w].raw
        }
    }

    /// Whether sub-batch `seq - 1` has committed (true), or is under way on a database where `seq`
    /// may insert meanwhile and wait for it before committing (false). Otherwise it is not this
    /// step's turn yet.
    static func previousTurn(_ c: any SQLConnection, batchID: String, seq: Int) async throws -> Bool {
        guard seq > 0 else { return true }
        if try await Pipeline.subBatchStatus(c, batchID: batchID, seq: seq - 1) == "registered" { return true }
        if c.allowsConcurrentWriters, try await c.query("""
            SELECT 1 AS running FROM jobs WHERE kind = 'register' AND batch_id = \(batchID) AND seq = \(seq - 1) AND state = 'running'
            """).first != nil {
            return false
        }
        throw NotYet(delay: 0.05, reason: "sub-batch \(seq - 1) is not registered yet")
    }

    /// Waits, in a transaction, until sub-batch `seq` has committed: each look waits on its row
    /// lock, held by its register transaction. When that step is not in a transaction (still
    /// preparing, or rolled back) it looks again shortly, for up to two seconds.
    ///
    /// A look that finds the row unlocked takes a share lock on it, and that step's transaction
    /// begins by locking its row for update: held from one look to the next, the share lock kept
    /// the step from starting until this wait gave up. So each look is in a savepoint, rolled back
    /// (giving the lock back) unless it found the sub-batch registered; and a plain read comes
    /// first, which takes no lock at all when it is registered already.
    static func waitUntilRegistered(_ c: any SQLConnection, batchID: String, seq: Int) async throws {
        if try await Pipeline.subBatchStatus(c, batchID: batchID, seq: seq) == "registered" { return }
        let locked: SQL = "SELECT status FROM sub_batches WHERE batch_id = \(batchID) AND seq = \(seq)\(c.forShare)"
        let deadline = ContinuousClock.now + .seconds(2)
        while true {
            try await c.execute("SAVEPOINT esteira_wait")
            if try await c.query(locked).first?.string("status") == "registered" {
                try await c.execute("RELEASE SAVEPOINT esteira_wait")
                return
            }
            try await c.execute("ROLLBACK TO SAVEPOINT esteira_wait")
            try await c.execute("RELEASE SAVEPOINT esteira_wait")
            guard ContinuousClock.now < deadline else {
                throw NotYet(delay: 0.05, reason: "sub-batch \(seq) did not commit in time")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Picks, for each external_id, the row offered to the registry, and lists the rejects: the
    /// valid rows the risk rules rejected, each with the codes of the rules that rejected it, and the
    /// rows that failed validation. `decisions` holds the risk decision of each valid row, in order.
    static func prepare(_ staged: StagedSubBatch, decisions: [RiskDecision]) -> Prepared {
        var p = Prepared()
        p.valid.reserveCapacity(staged.debtCount)
        p.candidates.reserveCapacity(staged.debtCount)
        var candidateOf: [String: Int] = [:]
        candidateOf.reserveCapacity(staged.debtCount)
        // The external ids a correction or a withdrawal names: all their rows go in file order.
        var inOrder = Set(staged.withdrawals.map(\.externalID))
        for k in staged.isCorrection.indices where staged.isCorrection[k] { inOrder.insert(staged.summaries[k].externalID) }
        var k = 0, w = 0
        for kind in staged.order {
            if kind == .withdrawal {
                p.sequential.append(.withdraw(w))
                w += 1
            }
            guard kind == .debt else { continue }
            defer { k += 1 }
            let decision = decisions[k]
            if decision.outcome == .reject {
                p.rejectedRows += 1
                for reason in decision.deciding {
                    p.rejects.append(RejectRecord(line: staged.debtLines[k], field: reason.rule.field.rawValue, code: reason.rule.rawValue,
                                                  message: reason.message, raw: staged.debtRaw(k)))
                }
                continue
            }
            if !inOrder.isEmpty, inOrder.contains(staged.summaries[k].externalID) {
                let review = decision.outcome == .review ? DebtReview(score: decision.score, reasons: decision.reasons) : nil
                p.sequential.append(staged.isCorrection[k] ? .correct(k) : .include(k, review: review))
                continue
            }
            let candidate: Int
            if let known = candidateOf[staged.summaries[k].externalID] {
                candidate = known
            } else {
                candidate = p.candidates.count
                candidateOf[staged.summaries[k].externalID] = candidate
                let review = decision.outcome == .review ? DebtReview(score: decision.score, reasons: decision.reasons) : nil
                p.candidates.append((k, staged.debtLines[k], review))
                p.candidateRow.append(p.valid.count)
            }
            p.valid.append((k, candidate))
        }
        // An external id with one correction or one withdrawal and nothing else in the sub-batch
        // (the common case) goes with the others like it, by slices.
        var rowsOf: [String: Int] = [:]
        func id(_ step: Step) -> String {
            switch step {
            case .include(let k, _), .correct(let k): staged.summaries[k].externalID
            case .withdraw(let w): staged.withdrawals[w].externalID
            }
        }
        for step in p.sequential { rowsOf[id(step), default: 0] += 1 }
        var inOrderSteps: [Step] = []
        for step in p.sequential {
            switch step {
            case .correct(let k) where rowsOf[id(step)] == 1:
                p.together.append((step, .correct(staged.debt(k))))
            case .withdraw(let w) where rowsOf[id(step)] == 1:
                p.together.append((step, .withdraw(externalID: staged.withdrawals[w].externalID, reason: staged.withdrawals[w].reason)))
            default:
                inOrderSteps.append(step)
            }
        }
        p.sequential = inOrderSteps
        for row in staged.rejected {
            p.rejectedRows += 1
            for issue in row.issues {
                p.rejects.append(RejectRecord(line: issue.line, field: issue.field?.rawValue ?? "", code: issue.code.rawValue,
                                              message: issue.message, raw: row.raw))
            }
        }
        p.staged = staged
        return p
    }
}

/// Moments for a file's changes to a debt's history, each later than the one before (the history
/// keeps microseconds): a debt's history then reads in file order, an inclusion's slip before its
/// withdrawal's cancellation.
struct HistoryClock {
    var last = Date.distantPast

    mutating func next() -> Date {
        last = max(Date(), last.addingTimeInterval(0.000_001))
        return last
    }
}

import EsteiraCore
import Foundation

/// What became of one debt sent on its own (`POST /v1/debts`).
public enum SingleDebtOutcome: Sendable, Equatable {
    /// Registered now.
    case created(DebtRecord)
    /// The same content was registered before: an idempotent re-send, nothing written to the registry.
    case existing(DebtRecord)
    /// The external id is registered with different content; the registry keeps the first.
    case conflict(existing: DebtRecord)
    /// The debt breaks these rules.
    case invalid([RowIssue])
    /// The risk rules rejected it, for these reasons.
    case riskRejected([RiskReason])
}

extension DebtRegistry {
    /// Judges and registers one debt sent on its own, as a batch of one record: the batch row (final
    /// at once, with its counts), the debt or the reject records commit in one durable transaction,
    /// so the call is traced like any file and answered only once it is on disk. `batch` describes
    /// the request (its raw body already in the blob store); its status and counts are set here.
    /// `risk` is the risk rules' decision on a valid debt: a rejection rejects it, a review
    /// registers it flagged.
    /// `dailyRows`: the client's quota of rows a day; the debt takes one of them first, or the
    /// call throws `DailyRowsExceeded` and nothing is written.
    public func registerOne(_ validation: DebtValidation, risk: RiskDecision?, clientNum: Int, batch: BatchRecord, raw: String,
                            dailyRows: Int = .max, now: Date = Date()) async throws -> SingleDebtOutcome {
        try await db.write(durable: true) { c in
            guard try await ClientUsage.reserve(c, clientID: batch.clientID, day: batch.receivedOn, rows: 1, limit: dailyRows) else {
                throw DailyRowsExceeded(limit: dailyRows)
            }
            var outcome: SingleDebtOutcome
            var counts = BatchCounts(received: 1)
            var rejects: [RejectRecord] = []
            switch validation {
            case .invalid(let issues):
                outcome = .invalid(issues)
                counts.rejected = 1
                rejects = issues.map {
                    RejectRecord(line: $0.line, field: $0.field?.rawValue ?? "", code: $0.code.rawValue, message: $0.message, raw: raw)
                }
            case .correction, .withdrawal:
                // A single debt is an inclusion; its route refuses the operation column first.
                let issue = RowIssue(line: 1, field: .operation, code: .operationUnknown,
                                     message: "Uma dívida enviada sozinha é uma inclusão; corrija com PATCH e dê baixa com POST .../withdrawal.")
                outcome = .invalid([issue])
                counts.rejected = 1
                rejects = [RejectRecord(line: 1, field: DebtField.operation.rawValue, code: issue.code.rawValue, message: issue.message, raw: raw)]
            case .valid where risk?.outcome == .reject:
                let reasons = risk?.deciding ?? []
                outcome = .riskRejected(reasons)
                counts.rejected = 1
                rejects = reasons.map {
                    RejectRecord(line: 1, field: $0.rule.field.rawValue, code: $0.rule.rawValue, message: $0.message, raw: raw)
                }
            case .valid(let debt):
                let review = risk.flatMap { $0.outcome == .review ? DebtReview(score: $0.score, reasons: $0.reasons) : nil }
                let rows = DebtRegistry.rows(clientNum: clientNum, batchID: batch.id,
                                             debts: [DebtCandidate(debt: debt, line: 1, review: review)], stamp: now)
                if try await DebtRegistry.insertNew(c, rows: rows) == [true] {
                    counts.registered = 1
                    try await BankslipStore.issue(c, clientID: batch.clientID, clientNum: clientNum,
                                                  debts: [SlipRequest(debt)], today: Day(now, in: Day.saoPaulo), now: now)
                    if let review {
                        counts.review = 1
                        try await DebtRegistry.insertReviews(c, clientNum: clientNum, reviews: [(debt.externalID, review)], now: now)
                    }
                    outcome = .created(DebtRecord(debt: debt, batchID: batch.id, line: 1, status: review == nil ? "registered" : "review",
                                                  createdAt: now, review: review))
                } else {
                    guard let kept = try await c.query("""
                        SELECT \(raw: DebtRegistry.reviewedColumns) FROM \(raw: DebtRegistry.reviewedFrom)
                        WHERE d.client_num = \(clientNum) AND d.external_id = \(debt.externalID)
                        """).first.map(DebtRegistry.reviewedRecord) else {
                        throw StoreError.notFound("debt \(debt.externalID) was neither inserted nor found")
                    }
                    if kept.debt.hasSameContent(as: debt) {
                        counts.duplicates = 1
                        outcome = .existing(kept)
                    } else {
                        counts.rejected = 1
                        outcome = .conflict(existing: kept)
                        rejects = [RejectRecord(
                            line: 1, field: DebtField.externalID.rawValue, code: RejectCode.conflict.rawValue,
                            message: "A dívida \(debt.externalID) já está registrada com outro conteúdo; o registro existente foi mantido.",
                            raw: raw)]
                    }
                }
            }
            let status: BatchStatus = counts.rejected > 0 ? .completedWithRejects : .completed
            try await c.execute("""
                INSERT INTO batches (id, client_id, status, source, file_name, blob_key, byte_size, received_on, sub_batch_size,
                                     received, registered, duplicates, rejected, review, trace_id, created_at, updated_at, finished_at)
                VALUES (\(batch.id), \(batch.clientID), \(status.rawValue), \(batch.source), \(batch.fileName), \(batch.blobKey),
                        \(batch.byteSize), \(batch.receivedOn), \(batch.subBatchSize), \(counts.received), \(counts.registered),
                        \(counts.duplicates), \(counts.rejected), \(counts.review), \(batch.traceID), \(batch.createdAt), \(now), \(now))
                """)
            try await DebtRegistry.insertRejects(c, batchID: batch.id, rejects: rejects, now: now)
            return outcome
        }
    }
}

/// A client's rows of the day are used up: a single debt is refused before anything is written.
public struct DailyRowsExceeded: Error, Sendable {
    public let limit: Int
}

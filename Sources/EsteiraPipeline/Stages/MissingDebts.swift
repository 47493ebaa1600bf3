import EsteiraBlobs
import EsteiraCore
import EsteiraStore
import Foundation

/// The open debts a full-portfolio file leaves out (docs/portfolio.md): every open debt of the
/// client (`registered`, `review`, `partially_paid`) whose external id no row of the file names,
/// a rejected row's included. Read before the batch's finalize transaction, from its staging files
/// and the registry, a slice at a time.
struct MissingDebts {
    let pipeline: Pipeline

    static let open = [DebtStatus.registered, .review, .partiallyPaid].map(\.rawValue)

    func find(_ batch: BatchRecord, clientNum: Int) async throws -> [(externalID: String, status: String)] {
        var named = Set<String>()
        for seq in 0..<batch.subBatches {
            let sub = try await pipeline.staged(batchID: batch.id, seq: seq)
            for summary in sub.summaries { named.insert(summary.externalID) }
            for withdrawal in sub.withdrawals { named.insert(withdrawal.externalID) }
            for id in sub.rejectedIDs where !id.isEmpty { named.insert(id) }
        }
        var missing: [(externalID: String, status: String)] = []
        var after = ""
        while true {
            let slice = try await pipeline.db.query("""
                SELECT external_id, status FROM debts
                WHERE client_num = \(clientNum) AND external_id > \(after) AND status IN (\(list: Self.open))
                ORDER BY external_id LIMIT 5000
                """)
            for row in slice {
                let id = try row.string("external_id")
                if !named.contains(id) { missing.append((id, try row.string("status"))) }
                after = id
            }
            if slice.count < 5000 { break }
        }
        return missing
    }

    /// Records the missing debts of a batch in its finalize transaction, and withdraws them when
    /// the client asks for that (reason `ausente_da_carteira`, the batch as the actor); returns how
    /// many it withdrew. A debt withdrawn or paid since it was found missing is only listed.
    static func record(_ c: any SQLConnection, batch: BatchRecord, clientNum: Int, missing: [(externalID: String, status: String)],
                       withdraw: Bool, now: Date) async throws -> Int {
        var withdrawn = 0
        for debt in missing {
            var done = false
            if withdraw, Self.open.contains(try await c.query("""
                SELECT status FROM debts WHERE client_num = \(clientNum) AND external_id = \(debt.externalID)
                """).first?.string("status") ?? "") {
                let outcome = try await DebtWithdrawals.withdraw(
                    c, clientNum: clientNum, externalID: debt.externalID, reason: .missingFromPortfolio,
                    note: "Ausente do arquivo de carteira completa \(batch.fileName ?? batch.id).",
                    actor: DebtEventActor(kind: .batch, id: batch.id), now: now)
                done = !outcome.duplicate
                if done { withdrawn += 1 }
            }
            try await c.execute("""
                INSERT INTO batch_missing (batch_id, external_id, status_before, withdrawn)
                VALUES (\(batch.id), \(debt.externalID), \(debt.status), \(done ? 1 : 0))
                """)
        }
        return withdrawn
    }
}

import EsteiraCore
import EsteiraStore
import Foundation

/// Answers a ledger request posted with `?async=true`: posts its entries and, in the same
/// transaction, records the result, queues the client's notification (`ledger.posted` or
/// `ledger.rejected`, through the outbox) and completes the job — so a crash leaves either all of
/// it or none, and a re-run finds the request answered. Other errors make the job try again with
/// backoff; after its last attempt it is dead, the request's dead letter.
struct LedgerStage {
    let pipeline: Pipeline

    func run(_ job: Job, owner: String) async throws {
        let db = pipeline.db
        guard case .ledgerRequest(let requestID) = job.payload else {
            throw StageInvariantError(description: "ledger job \(job.id) (\(job.payload)): not a ledger request")
        }
        let loaded = try await db.read { c in try await LedgerRequests.load(c, id: requestID) }
        guard let request = loaded, request.state == "queued" else {
            try await db.write { c in try await JobQueue.complete(c, job: job, owner: owner) }
            return
        }
        let store = LedgerStore(db: db)
        let accounts = try await store.prepareAccounts(clientNum: request.clientNum, request.drafts)
        do {
            try await db.write(durable: true) { c in
                let posting = try await store.post(in: c, clientNum: request.clientNum, request.drafts, accounts: accounts)
                try await answer(c, request, job: job, owner: owner, state: "posted", event: .ledgerPosted,
                                 outcome: .posted(posting.entries))
            }
            pipeline.logger.info("ledger request posted", metadata: ["request": "\(request.id)", "entries": "\(request.drafts.count)"])
        } catch let rejection as LedgerRejection {
            try await db.write(durable: true) { c in
                try await answer(c, request, job: job, owner: owner, state: "rejected", event: .ledgerRejected,
                                 outcome: .rejected(rejection.issues))
            }
            pipeline.logger.info("ledger request rejected", metadata: ["request": "\(request.id)", "issues": "\(rejection.issues.count)"])
        }
    }

    func answer(_ c: any SQLConnection, _ request: LedgerRequest, job: Job, owner: String, state: String, event: NotificationEvent,
                outcome: LedgerRequestOutcome) async throws {
        try await LedgerRequests.finish(c, id: request.id, state: state, result: try JSONText.encoded(outcome))
        let payload = LedgerRequestEvent(event: event.rawValue, id: request.id, state: state, outcome: outcome)
        try await NotificationStore.enqueue(c, clientID: request.clientID, subjectID: request.id, event: event,
                                            payload: try JSONText.encoded(payload))
        try await JobQueue.complete(c, job: job, owner: owner)
    }
}

import EsteiraCore
@testable import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A batch cancelled while a register step of it is under way: the step, already past the
/// pipeline's own look at the batch, finds the cancellation in its transaction and writes nothing.
@Suite("A cancelled batch's register step, on SQLite and PostgreSQL")
struct CancelledBatchTests {
    @Test("a register step claimed before the cancellation registers nothing after it; the batch stays cancelled",
          arguments: TestDatabase.dialects)
    func registerAfterCancel(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let id = try await PipelineTests.transformed(h, subBatches: 2, tag: "X")
            let queue = JobQueue(db: db)
            let claimed = try #require(try await queue.claim(kinds: [.register], owner: "a", lease: 30))
            #expect(claimed.seq == 0)

            let cancelled = try #require(try await BatchStore(db: db).cancel(id: id, by: .cli(user: "test")))
            #expect(cancelled.status == .cancelled && cancelled.changed)
            // The register step itself, as a worker that had already passed Pipeline.run's look runs it.
            try await RegisterStage(pipeline: h.pipeline).run(claimed, owner: "a")

            #expect(try await db.query("SELECT COUNT(*) AS n FROM debts")[0].int("n") == 0)
            #expect(try await queue.get(id: claimed.id)?.state == .done)
            #expect(try await db.query("SELECT COUNT(*) AS n FROM jobs WHERE batch_id = \(id) AND kind = 'register' AND state <> 'done'")[0].int("n") == 0)
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.status == .cancelled)
            #expect(batch.counts.registered == 0)
        }
    }
}

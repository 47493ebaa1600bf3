import EsteiraCore
@testable import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Logging
import Synchronization
import Testing


@Suite("Worker: a database that stops answering does not hold a slot")
struct WorkerStallTests {
    @Test("a job whose writes and whose failure's record never answer: the slot moves on, the lease runs out, another worker finishes the batch",
          arguments: TestDatabase.dialects)
    func stalledWrites(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let stalling = StallingDatabase(db)
            let h = try await PipelineHarness.make(stalling, subBatchSize: 3)
            var settings = Worker.Settings()
            settings.leaseSeconds = 1
            settings.jobTimeoutSeconds = 1
            let worker = Worker(pipeline: h.pipeline, settings: settings)
            let id = try await h.submit(Array(PipelineTests.file.utf8))
            let queue = JobQueue(db: db)
            let job = try #require(try await queue.claim(kinds: [.pick], owner: "w1", lease: 1))

            stalling.gate.close()
            // The pick's first write stalls: the job times out after 1 s. Recording the timeout stalls
            // too, and is given up after a lease (1 s). Before, the slot waited on that record for
            // ever, renewing nothing but holding the job; the bound here only keeps a failure from
            // hanging the test run.
            try await bounded(seconds: 60) { await worker.process(job, owner: "w1") }
            let held = try #require(try await queue.get(id: job.id))
            #expect(held.state == .running && held.leaseOwner == "w1" && held.attempts == 1)

            stalling.gate.open()
            // Its lease, never renewed in the stall, has run out: the next worker takes the job again.
            try await Task.sleep(for: .seconds(1.2))
            try await h.drain(owner: "w2")
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.counts == BatchCounts(received: 9, registered: 3, duplicates: 1, rejected: 5))
            let again = try #require(try await queue.get(id: job.id))
            #expect(again.state == .done && again.attempts == 2)
        }
    }

    @Test("bounded: the answer when it comes in time, the error it throws, and Overran when it never answers")
    func boundedOutcomes() async throws {
        #expect(try await bounded(seconds: 5) { 42 } == 42)
        await #expect(throws: StoreError.self) {
            try await bounded(seconds: 5) { () async throws -> Int in throw StoreError.notFound("x") }
        }
        // An operation that ignores cancellation and never answers (until the test lets it go).
        let gate = Gate()
        gate.close()
        await #expect(throws: Overran.self) {
            try await bounded(seconds: 0.2) { await gate.pass() }
        }
        gate.open()
    }

    /// A fresh PostgreSQL database, with a table `marks (n)` for the rows a test's transactions leave.
    static func withMarks(_ body: @escaping @Sendable (PostgresDatabase) async throws -> Void) async throws {
        try await TestDatabase.with(.postgres) { base in
            let pg = try #require(base as? PostgresDatabase)
            try await pg.execute("CREATE TABLE marks (n BIGINT NOT NULL)")
            try await body(pg)
        }
    }

    @Test("PostgreSQL: a transaction past its limit fails its caller, and rolls back when its work ends later",
          .enabled(if: TestDatabase.postgresURL != nil))
    func transactionLimit() async throws {
        try await Self.withMarks { pg in
            // The same pool, with transactions limited to 3 s.
            let db = pg.withLimits(PostgresLimits(transaction: 3))
            // The work inserts a row, then waits at a closed gate, deaf to cancellation, as on a
            // connection that stopped answering.
            let gate = Gate()
            gate.close()
            let inserted = Gate()
            inserted.close()
            let caller = Task {
                try await db.write { c in
                    try await c.execute("INSERT INTO marks (n) VALUES (1)")
                    inserted.open()
                    _ = await gate.pass()
                }
            }
            await #expect(throws: SQLError.self) { try await caller.value }
            // The caller was told it failed; the work now ends normally, and must not commit.
            _ = await inserted.pass()
            gate.open()
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await pg.query("SELECT COUNT(*) AS n FROM marks")[0].int("n") == 0)
            // A transaction within the limit commits as before.
            try await db.execute("INSERT INTO marks (n) VALUES (2)")
            #expect(try await pg.query("SELECT COUNT(*) AS n FROM marks")[0].int("n") == 1)
        }
    }

    @Test("PostgreSQL: a transaction that gets no connection within its wait fails its caller, never runs, and leaves the pool whole",
          .enabled(if: TestDatabase.postgresURL != nil))
    func connectionWait() async throws {
        try await Self.withMarks { pg in
            // The test pool holds 20 connections (TestDatabase): 20 transactions take them all and
            // wait at a closed gate.
            let gate = Gate()
            gate.close()
            defer { gate.open() }
            let holding = Shared(0)
            let holders = (0..<20).map { _ in
                Task {
                    try await pg.write { c in
                        try await c.execute("SELECT 1")
                        holding.update { $0 += 1 }
                        _ = await gate.pass()
                    }
                }
            }
            // Bounded: a holder that cannot connect (a server short of connections) fails the test
            // instead of leaving it waiting for ever.
            let deadline = ContinuousClock.now + .seconds(30)
            while holding.value < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try #require(holding.value == 20, "only \(holding.value) of 20 transactions got a connection")
            // The 21st, allowed to wait half a second for a connection.
            let db = pg.withLimits(PostgresLimits(connectionWait: 0.5))
            let started = ContinuousClock.now
            let error = await #expect(throws: SQLError.self) {
                try await db.write { c in try await c.execute("INSERT INTO marks (n) VALUES (1)") }
            }
            #expect(error?.message.contains("no PostgreSQL connection within 0.5 s") == true)
            #expect(ContinuousClock.now - started < .seconds(5))
            // A transaction's limit shorter than its wait for a connection: what ran out is still
            // the wait for a connection, and the error says so (it said "did not answer", and hid
            // the connection's problem: PostgresTLSTests on CI, both limits 30 s).
            let short = pg.withLimits(PostgresLimits(transaction: 0.5, connectionWait: 10))
            let shortError = await #expect(throws: SQLError.self) {
                try await short.write { c in try await c.execute("INSERT INTO marks (n) VALUES (1)") }
            }
            #expect(shortError?.message.contains("no PostgreSQL connection within 0.5 s") == true, "\(String(describing: shortError))")
            // The holders end; their connections serve again, also to the pool's limited user.
            gate.open()
            for h in holders { try await h.value }
            try await db.execute("INSERT INTO marks (n) VALUES (2)")
            // The abandoned transaction never ran, even once connections came free.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await pg.query("SELECT n FROM marks").map { try $0.int("n") } == [2])
        }
    }

    @Test("PostgreSQL: a call that never returns on a connection that closed is given up a second after the close",
          .enabled(if: TestDatabase.postgresURL != nil))
    func connectionClosedUnderCall() async throws {
        try await Self.withMarks { base in
            // Transactions limited to 20 s, so that without the fix the test fails in 20 s, not 600.
            let pg = base.withLimits(PostgresLimits(transaction: 20))
            // The work learns its server process, then waits at a closed gate, deaf to cancellation,
            // as PostgresNIO's `copyFrom` does when its continuation is dropped.
            let gate = Gate()
            gate.close()
            let pid = Shared<Int?>(nil)
            let caller = Task {
                try await pg.write { c in
                    let mine = try await c.query("SELECT pg_backend_pid() AS pid")[0].int("pid")
                    pid.update { $0 = mine }
                    _ = await gate.pass()
                }
            }
            while pid.value == nil { try await Task.sleep(for: .milliseconds(20)) }
            // PostgreSQL ends that connection, as a restart does.
            let started = ContinuousClock.now
            let backend = pid.value!
            _ = try await pg.query("SELECT pg_terminate_backend(CAST(\(backend) AS integer)) AS ended")
            let error = await #expect(throws: SQLError.self) { try await caller.value }
            #expect(error?.message.contains("connection closed during the transaction") == true)
            // Within about a second of the close, not at the transaction's 600-second limit.
            #expect(ContinuousClock.now - started < .seconds(10))
            gate.open()
            // The pool serves again.
            #expect(try await pg.query("SELECT 1 AS one")[0].int("one") == 1)
        }
    }
}

import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The purge of what is past its retention, on SQLite and PostgreSQL: every kind seeded with one
/// thing past its period and one within it (or of a state that stays), its dry run counting and
/// removing nothing, its run removing exactly what the dry run counted, and both recorded as
/// counts.
@Suite("Retention: the purge, its dry run and its records")
struct PurgeTests {
    static let day: TimeInterval = 86_400

    @Test("each kind: past its period removed, within it kept; the dry run counts the same and removes nothing", arguments: TestDatabase.dialects)
    func purge(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let blobs = try TestDatabase.temporaryBlobs()
            let now = Date()
            @Sendable func ago(_ days: Double) -> Date { now.addingTimeInterval(-days * Self.day) }
            let (client, key) = try await ClientStore(db: db).create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let (op, _) = try await OperatorStore(db: db).create(name: "Ana", role: .admin)

            // Batches: one ended 100 days ago (raw file and converted CSV), one ended 10 days ago,
            // one still running. Files are kept 90 days after the end.
            func batch(_ id: String, finished: Date?, converted: Bool = false) async throws {
                let record = BatchRecord(newID: id, client: client, source: "api_csv", fileName: "\(id).csv",
                                         blobKey: BlobKeys.raw(clientID: client.id, batchID: id), byteSize: 3)
                try await BatchStore(db: db).create(record)
                try await blobs.put(key: record.blobKey, bytes: Array("a;b".utf8))
                if converted { try await blobs.put(key: BlobKeys.converted(batchID: id), bytes: Array("a;b".utf8)) }
                try await db.write { c in
                    try await c.execute("""
                        UPDATE batches SET status = \(finished == nil ? "processing" : "completed"), finished_at = \(finished),
                               data_key = \(converted ? BlobKeys.converted(batchID: id) : nil) WHERE id = \(id)
                        """)
                }
                try await blobs.put(key: BlobKeys.staging(batchID: id, seq: 0), bytes: [1])
            }
            try await batch("old", finished: ago(100), converted: true)
            try await batch("recent", finished: ago(10))
            try await batch("running", finished: nil)
            try await blobs.put(key: BlobKeys.staging(batchID: "ghost", seq: 0), bytes: [1])

            // Previews (dry runs) waiting for a confirmation: one ready 8 days ago, one 6 days ago
            // (a preview waits 7 days).
            for (id, ready) in [("p-old", ago(8)), ("p-new", ago(6))] {
                try await BatchStore(db: db).create(BatchRecord(newID: id, client: client, source: "api_csv", fileName: "\(id).csv",
                                                                blobKey: BlobKeys.raw(clientID: client.id, batchID: id), byteSize: 3))
                try await db.write { c in
                    try await c.execute("UPDATE batches SET status = 'previewed', dry_run = 1, updated_at = \(ready) WHERE id = \(id)")
                }
            }

            // Web drafts: one of 3 days ago, one of an hour ago, one from before drafts had a time.
            for (id, created) in [("d-old", Optional(ago(3))), ("d-new", Optional(now.addingTimeInterval(-3600))), ("d-legacy", nil)] {
                try await blobs.put(key: BlobKeys.raw(clientID: client.id, batchID: id), bytes: Array("x".utf8))
                let json = created.map { #"{"fileName":"f.csv","size":1,"header":["a"],"createdAt":"\#(Timestamp.iso($0))"}"# }
                    ?? #"{"fileName":"f.csv","size":1,"header":["a"]}"#
                try await blobs.put(key: "drafts/\(client.id)/\(id).json", bytes: Array(json.utf8))
            }

            try await db.write { c in
                // Rejected lines: two of 200 days ago, one of 10 days ago (their raw text kept 180 days).
                for (line, created) in [(2, ago(200)), (3, ago(200)), (4, ago(10))] {
                    try await c.execute("""
                        INSERT INTO rejects (batch_id, line, field, code, message, raw, created_at)
                        VALUES ('old', \(line), 'document', 'R003', 'x', \("D\(line);Ana;248.438.034-81"), \(created))
                        """)
                }
                // Risk decisions: one of 400 days ago, one of today (kept 365 days).
                for (trace, created) in [("t-old", ago(400)), ("t-new", now)] {
                    try await c.execute("""
                        INSERT INTO risk_decisions (client_id, trace_key, document, amount_cents, outcome, score, reasons, external,
                                                    used_fallback, elapsed_ms, created_at)
                        VALUES (\(client.id), \(trace), '24843803480', 1000, 'approve', 0, '[]', 'skipped', 0, 1, \(created))
                        """)
                }
                // Notifications: delivered 200 days ago (with 2 attempts), pending as old, delivered
                // 10 days ago (kept 180 days; a pending one is never purged).
                var ids: [String: Int] = [:]
                for (name, state, created) in [("old", "delivered", ago(200)), ("pending", "pending", ago(200)), ("recent", "delivered", ago(10))] {
                    ids[name] = try await c.query("""
                        INSERT INTO notifications (client_id, batch_id, event, endpoint_id, payload, state, attempts, next_at, created_at)
                        VALUES (\(client.id), 'old', \(name), 'e1', '{}', \(state), 1, \(created), \(created)) RETURNING id
                        """)[0].int("id")
                }
                for _ in 0..<2 {
                    try await c.execute("INSERT INTO notification_attempts (notification_id, at, duration_ms) VALUES (\(ids["old"]!), \(ago(200)), 5)")
                }
                try await c.execute("INSERT INTO notification_attempts (notification_id, at, duration_ms) VALUES (\(ids["recent"]!), \(ago(10)), 5)")
                // Jobs: done 40 days ago, dead as old, done yesterday (kept 30 days; dead ones stay).
                for (seq, (state, updated)) in [("done", ago(40)), ("dead", ago(40)), ("done", ago(1))].enumerated() {
                    try await c.execute("""
                        INSERT INTO jobs (kind, batch_id, seq, state, attempts, max_attempts, run_at, trace_id, created_at, updated_at)
                        VALUES ('pick', 'j', \(seq), \(state), 1, 8, \(updated), 't', \(updated), \(updated))
                        """)
                }
                // Submissions: one submitted 10 days ago with 3 lines, one open with 2 (lines kept 7 days).
                for (id, status, lines) in [("s-old", "submitted", 3), ("s-open", "open", 2)] {
                    try await c.execute("""
                        INSERT INTO submissions (id, client_id, status, lines, created_at, expires_at, updated_at)
                        VALUES (\(id), \(client.id), \(status), \(lines), \(ago(10)), \(now.addingTimeInterval(Self.day)), \(ago(10)))
                        """)
                    for seq in 0..<lines {
                        try await c.execute("INSERT INTO submission_lines (submission_id, seq, line) VALUES (\(id), \(seq), 'x')")
                    }
                }
            }
            // Sessions: a live and an expired web session, an expired console session. (Opening a
            // session removes those expired before it, so the live one is opened first.)
            let keyID = try #require(try await ClientStore(db: db).authenticate(apiKey: key)?.1.keyID)
            let opKey = try #require(try await KeyStore(db: db).list(owner: .operator, ownerID: op.id).first?.id)
            let live = try await WebSessionStore(db: db).create(clientID: client.id, keyID: keyID, lifetime: 3600)
            _ = try await WebSessionStore(db: db).create(clientID: client.id, keyID: keyID, lifetime: -60)
            _ = try await OperatorStore(db: db).openSession(operatorID: op.id, keyID: opKey, lifetime: -60)

            // Worked by hand from the seeds above: previews 1 (p-old), files 2 (old's raw and converted), drafts 2
            // (d-old, d-legacy), staging 3 (old, recent: ended more than 7 days ago; ghost: no
            // batch), reject lines 2, risk decisions 1, notifications 1, jobs 1, submission lines 3,
            // sessions 2.
            let expected: [Retention.Kind: Int] = [.previews: 1, .files: 2, .drafts: 2, .staging: 3, .rejectLines: 2, .riskDecisions: 1,
                                                   .notifications: 1, .jobs: 1, .submissions: 3, .sessions: 2]
            let purge = Purge(db: db, blobs: blobs, retention: Retention())
            let blobsBefore = try await blobs.list(prefix: "").count
            let dry = try await purge.run(dryRun: true, now: now)
            #expect(dry == expected, "\(Purge.text(dry))")
            #expect(try await blobs.list(prefix: "").count == blobsBefore)
            #expect(try await db.query("SELECT COUNT(*) AS n FROM rejects WHERE raw <> ''")[0].int("n") == 3)

            #expect(try await purge.run(dryRun: false, now: now) == expected)
            // What stays.
            #expect(try await blobs.readAll(key: BlobKeys.raw(clientID: client.id, batchID: "recent")) == Array("a;b".utf8))
            #expect(try await blobs.readAll(key: BlobKeys.staging(batchID: "running", seq: 0)) == [1])
            #expect(try await blobs.readAll(key: "drafts/\(client.id)/d-new.json").isEmpty == false)
            #expect(try await db.query("SELECT line FROM rejects WHERE raw <> '' ORDER BY line").map { try $0.int("line") } == [4])
            #expect(try await db.query("SELECT line FROM rejects ORDER BY line").count == 3)
            #expect(try await db.query("SELECT trace_key FROM risk_decisions").map { try $0.string("trace_key") } == ["t-new"])
            #expect(try await db.query("SELECT event FROM notifications ORDER BY event").map { try $0.string("event") } == ["pending", "recent"])
            #expect(try await db.query("SELECT COUNT(*) AS n FROM notification_attempts")[0].int("n") == 1)
            #expect(try await db.query("SELECT state FROM jobs WHERE batch_id = 'j' ORDER BY state").map { try $0.string("state") } == ["dead", "done"])
            #expect(try await db.query("SELECT submission_id FROM submission_lines").map { try $0.string("submission_id") } == ["s-open", "s-open"])
            #expect(try await WebSessionStore(db: db).client(token: live)?.id == client.id)
            // What went: the old batch keeps its row and counts, and says its files are gone.
            await #expect(throws: BlobError.self) { try await blobs.size(key: BlobKeys.raw(clientID: client.id, batchID: "old")) }
            #expect(try await db.query("SELECT files_purged_at FROM batches WHERE id = 'old'")[0].optionalDate("files_purged_at") != nil)
            #expect(try await blobs.list(prefix: "drafts/").map(\.key) == ["drafts/\(client.id)/d-new.json"])
            #expect(try await blobs.list(prefix: "staging/").map(\.key) == [BlobKeys.staging(batchID: "running", seq: 0)])
            // The preview nobody confirmed: cancelled, saying why, by the retention purge, its
            // cleanup queued, and too late to confirm; the one within its 7 days still waits.
            let expired = try #require(try await BatchStore(db: db).get(id: "p-old"))
            #expect(expired.status == .cancelled)
            #expect(expired.error == "A prévia não foi confirmada em 7 dias: o lote foi cancelado e nada dele foi registrado.")
            #expect(try await db.query("SELECT finished_at FROM batches WHERE id = 'p-old'")[0].optionalDate("finished_at") != nil)
            #expect(try await db.query("SELECT kind FROM jobs WHERE batch_id = 'p-old' AND state = 'queued'").map { try $0.string("kind") }
                == ["cleanup"])
            let audit = try await db.query("SELECT operator_name, channel FROM audit_log WHERE action = 'batch.cancel' AND target = 'batch:p-old'")
            #expect(try audit.map { "\(try $0.string("operator_name"))/\(try $0.string("channel"))" } == ["retention/system"])
            #expect(try await BatchStore(db: db).confirm(id: "p-old", clientID: client.id) == .notPreviewed(.cancelled))
            #expect(try await BatchStore(db: db).get(id: "p-new")?.status == .previewed)
            // A batch confirmed between the purge's listing and its cancel is left going.
            let raced = try await BatchStore(db: db).cancel(id: "running", by: .retention, only: [.previewed], reason: "x")
            #expect(raced?.status == .processing && raced?.changed == false)
            #expect(try await BatchStore(db: db).get(id: "running")?.status == .processing)

            // A second run finds nothing; the records hold counts, never contents.
            #expect(try await purge.run(dryRun: false, now: now).values.reduce(0, +) == 0)
            let runs = try await db.query("SELECT dry_run, counts, error FROM purge_runs ORDER BY id")
            #expect(try runs.map { try $0.int("dry_run") } == [1, 0, 0])
            #expect(try runs[1].optionalString("counts") ==
                #"{"drafts":"2","files":"2","jobs":"1","notifications":"1","previews":"1","reject_lines":"2","risk_decisions":"1","sessions":"2","staging":"3","submissions":"3"}"#)
            #expect(try runs.allSatisfy { try $0.optionalString("error") == nil })
            #expect(try !runs.contains { try ($0.optionalString("counts") ?? "").contains("248") })
        }
    }

    @Test("the daily purge is claimed once a day, by one process; a dry run does not count as the day's", arguments: TestDatabase.dialects)
    func dailyClaim(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let purge = Purge(db: db, blobs: try TestDatabase.temporaryBlobs(), retention: Retention())
            let service = PurgeService(purge: purge, logger: .init(label: "test"))
            let t0 = Date()
            _ = try await purge.run(dryRun: true, now: t0)
            #expect(try await service.claim(now: t0) != nil)
            // Another process an hour later, and 23 hours later: the day is taken.
            #expect(try await service.claim(now: t0.addingTimeInterval(3600)) == nil)
            #expect(try await service.claim(now: t0.addingTimeInterval(23 * 3600)) == nil)
            // 24 hours after the last start, the next day's purge.
            #expect(try await service.claim(now: t0.addingTimeInterval(24 * 3600)) != nil)
        }
    }
}

import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraTestSupport
@testable import EsteiraStore
import Foundation
import Testing

@Suite("Store on SQLite and PostgreSQL")
struct StoreTests {
    @Test("PostgreSQL is there when CI runs")
    func postgresInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(TestDatabase.postgresURL != nil, "CI must run the store tests on PostgreSQL too")
        }
    }

    @Test("migrations apply once", arguments: TestDatabase.dialects)
    func migrations(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            #expect(try await Migrations.migrate(db).isEmpty)
            let names = try await db.query("SELECT name FROM schema_migrations").map { try $0.string("name") }
            #expect(names == Migrations.all.map(\.name))
        }
    }

    @Test("the migration gives existing debts the same document key as TaxID.indexKey", arguments: TestDatabase.dialects)
    func documentKeyInSQL(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let sql = Migrations.render(Migrations.documentKeySQL, for: dialect)
            // Expected values from Python: int("24843803480"), int("01234567890"),
            // 10**11 + int("112223330001", 36), 10**11 + int("12ABC34501DE", 36), 10**11 + int("ZZZZZZZZZZZZ", 36).
            let vectors: [(String, Int)] = [
                ("24843803480", 24_843_803_480), ("01234567890", 1_234_567_890),
                ("11222333000181", 135_486_887_860_594_433), ("12ABC34501DE35", 139_981_699_648_639_986),
                ("ZZZZZZZZZZZZ00", 4_738_381_438_321_616_895),
            ]
            for (document, key) in vectors {
                let row = try await db.query("SELECT \(raw: sql) AS k FROM (SELECT \(document) AS document) AS t")
                #expect(try row[0].int("k") == key, "\(document)")
            }
        }
    }

    @Test("values round-trip: text, 64-bit integers, days, timestamps, nulls", arguments: TestDatabase.dialects)
    func values(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let client = try await ClientStore(db: db).create(name: "Ação & Cia 'Ltda'", document: "11222333000181",
                                                              subBatchSize: 7, traceID: "t").0
            let h = PipelineHarness(db: db, blobs: try TestDatabase.temporaryBlobs(), client: client)
            let id = try await h.submit([1, 2, 3], receivedOn: Day(year: 2024, month: 2, day: 29)!)
            let b = try #require(try await BatchStore(db: db).get(id: id))
            #expect(b.receivedOn == Day(year: 2024, month: 2, day: 29))
            #expect(b.fileName == "t.csv")
            #expect(b.finishedAt == nil)
            #expect(abs(b.createdAt.timeIntervalSinceNow) < 60)
            #expect(try await ClientStore(db: db).get(id: client.id)?.name == "Ação & Cia 'Ltda'")
            let big = try await db.query("SELECT \(Int64(999_999_999_999_999)) + 0 AS n")[0].int("n")
            #expect(big == 999_999_999_999_999)
        }
    }

    /// Rows read as text (`queryText`, the export's reader): the text each database stores, NULL
    /// apart from the empty text, in one buffer. By hand: the day 2024-02-29, the moment 1.5 s after
    /// 2025-12-06T05:46:40Z (1,765,000,000 s after 1970), `Timestamp.iso`'s six fraction digits.
    @Test("rows read as text: integers, text, NULL and empty text, days and moments, as stored", arguments: TestDatabase.dialects)
    func rowsAsText(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            try await db.write { c in
                try await c.execute("""
                    INSERT INTO debt_events (client_num, external_id, kind, at, actor, details)
                    VALUES (7, 'Ação', 'corrected', \(Date(timeIntervalSince1970: 1_765_000_001.5)), '', '{}'),
                           (-12, 'B', 'withdrawn', \(Date(timeIntervalSince1970: 1_765_000_000)), '{"a":1}', '{}')
                    """)
            }
            let rows = try await db.queryText("""
                SELECT client_num, external_id, actor, NULL AS no_value, \(Day(year: 2024, month: 2, day: 29)!) AS day, at
                FROM debt_events ORDER BY client_num DESC
                """)
            #expect(rows.count == 2 && rows.width == 6)
            let read = rows.withRows { v in
                (0..<v.count).map { r in (0..<6).map { c in v.value(r, c).map { String(decoding: $0, as: UTF8.self) } } }
            }
            #expect(read[0] == ["7", "Ação", "", nil, "2024-02-29", "2025-12-06T05:46:41.500000Z"])
            #expect(read[1] == ["-12", "B", #"{"a":1}"#, nil, "2024-02-29", "2025-12-06T05:46:40.000000Z"])
            #expect(try await db.queryText("SELECT 1 AS n FROM debt_events WHERE 1 = 0").count == 0)
            // Read back as values: integers from their digits (Int64's extremes included), days only
            // when written AAAA-MM-DD and real (2023 has no 29 February), NULL and other text as nil.
            let typed = try await db.queryText("""
                SELECT \(Int64.max) AS a, \(Int64.min) AS b, '12a' AS c, '' AS d, '-' AS e, NULL AS f,
                       '2024-02-29' AS g, '2023-02-29' AS h, '29/02/2024' AS i, 'Ação' AS j
                """)
            let values = typed.withRows { v in
                ((0..<6).map { v.int(0, $0) }, (6..<9).map { v.day(0, $0) }, v.string(0, 9), v.string(0, 5))
            }
            #expect(values.0 == [9_223_372_036_854_775_807, -9_223_372_036_854_775_808, nil, nil, nil, nil])
            #expect(values.1 == [Day(year: 2024, month: 2, day: 29)!, nil, nil])
            #expect(values.2 == "Ação" && values.3 == nil)
        }
    }

    /// A moment written by a bound statement and the same moment written by a bulk insert read back
    /// the same, to the microsecond: a debt's history orders the events of one change by their
    /// moment, written both ways. (Microseconds computed from 1970 and from 2000 in floating point
    /// differ by one for about one moment in fifteen: these thousand have 66 such, by a second
    /// computation in a scratch program.)
    @Test("a moment reads back the same whether a statement or a bulk insert wrote it", arguments: TestDatabase.dialects)
    func momentsAgree(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let moments = (0..<1000).map { Date(timeIntervalSince1970: 1_765_000_000 + Double($0) * 0.000_001_3) }
            try await db.write { c in
                for (i, at) in moments.enumerated() {
                    try await c.execute("""
                        INSERT INTO debt_events (client_num, external_id, kind, at, actor, details)
                        VALUES (1, \("S\(i)"), 'corrected', \(at), '{}', '{}')
                        """)
                }
                _ = try await c.insert(into: "debt_events", columns: ["client_num", "external_id", "kind", "at", "actor", "details"],
                                       rows: moments.indices.map { [.int(1), .text("B\($0)"), .text("corrected"), .timestamp(moments[$0]), .text("{}"), .text("{}")] })
            }
            let read = try await db.query("SELECT external_id, at FROM debt_events")
            var byID: [String: Date] = [:]
            for row in read { byID[try row.string("external_id")] = try row.date("at") }
            let differing = moments.indices.filter { byID["S\($0)"] != byID["B\($0)"] }
            #expect(differing.isEmpty, "\(differing.count) of 1000 differ")
        }
    }

    /// The history's JSON written by hand for a file's many changes is the text JSONEncoder writes
    /// (`JSONText.encoded`), for values with every kind of character that needs escaping.
    @Test("events' JSON written by hand is JSONEncoder's text")
    func handWrittenJSON() throws {
        let hard = ["", "Ana", "a\"b\\c/d", "\t\n\r\u{8}\u{c}", "\u{1}\u{1f}\u{7f}", "ação €😀", "\u{2028}"]
        for text in hard {
            #expect(JSONText.quoted(text) == String(try JSONText.encoded([text]).dropFirst().dropLast()), "\(text.debugDescription)")
        }
        for actor in [DebtEventActor(kind: .batch, id: "b-1", line: 42), DebtEventActor(kind: .apiKey, id: "…a1\"b"),
                      DebtEventActor(kind: .esteira, id: "")] {
            #expect(actor.json == (try JSONText.encoded(actor)))
        }
        let corrected = DebtCorrections.Corrected(changes: [
            "name": .init(before: "Ana \"A\"", after: "Ana\tMaria"), "email": .init(before: nil, after: "a@b.c"),
            "amount": .init(before: "1.00", after: "2.00"), "description": .init(before: "x\ny", after: nil),
        ])
        #expect(corrected.json == (try JSONText.encoded(corrected)))
        for note in [nil, "Pagou \"direto\"\nna loja"] {
            let withdrawn = DebtWithdrawals.Withdrawn(reason: .courtDecision, note: note, statusBefore: "partially_paid")
            #expect(withdrawn.json == (try JSONText.encoded(withdrawn)))
        }
    }

    @Test("API keys: only the hash is kept; revoked keys stop working", arguments: TestDatabase.dialects)
    func apiKeys(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let clients = ClientStore(db: db)
            let (client, key) = try await clients.create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            #expect(key.hasPrefix("est_") && key.count == 44)
            #expect(try await clients.authenticate(apiKey: key)?.0.id == client.id)
            #expect(try await clients.authenticate(apiKey: key + "x") == nil)
            let stored = try await db.query("SELECT key_hash FROM api_keys")[0].string("key_hash")
            #expect(stored != key && stored.count == 64)
            let newKey = try #require(try await clients.revokeKey(id: client.id, issueNew: true, by: .cli(user: "test")))
            #expect(try await clients.authenticate(apiKey: key) == nil)
            #expect(try await clients.authenticate(apiKey: newKey)?.0.id == client.id)
        }
    }

    @Test("web sessions: only the token's hash is kept; they end at expiry, sign-out or a revoked key",
          arguments: TestDatabase.dialects)
    func webSessions(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let clients = ClientStore(db: db), sessions = WebSessionStore(db: db)
            let (client, key) = try await clients.create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let keyID = try #require(try await clients.authenticate(apiKey: key)?.1.keyID)
            let token = try await sessions.create(clientID: client.id, keyID: keyID, lifetime: 3600)
            #expect(token.count == 64)
            #expect(try await sessions.client(token: token)?.id == client.id)
            #expect(try await sessions.client(token: token + "0") == nil)
            #expect(try await db.query("SELECT token_hash FROM web_sessions")[0].string("token_hash") != token)
            let expired = try await sessions.create(clientID: client.id, keyID: keyID, lifetime: -1)
            #expect(try await sessions.client(token: expired) == nil)
            try await sessions.delete(token: token)
            #expect(try await sessions.client(token: token) == nil)
            let live = try await sessions.create(clientID: client.id, keyID: keyID, lifetime: 3600)
            _ = try await clients.revokeKey(id: client.id, issueNew: false, by: .cli(user: "test"))
            #expect(try await sessions.client(token: live) == nil)
        }
    }

    @Test("saved formats: replaced by name, and one default per client", arguments: TestDatabase.dialects)
    func savedFormats(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let clients = ClientStore(db: db), formats = ClientFormatStore(db: db)
            let (a, _) = try await clients.create(name: "A", document: "11222333000181", subBatchSize: 10, traceID: "t")
            let (b, _) = try await clients.create(name: "B", document: "11444777000161", subBatchSize: 10, traceID: "t")
            let columns = ClientFormat(columns: [.externalID: "id", .name: "n", .document: "d", .amount: "v", .dueDate: "dt"])
            try await formats.save(clientID: a.id, SavedFormat(name: "um", format: columns, isDefault: true))
            try await formats.save(clientID: a.id, SavedFormat(name: "dois", format: columns, isDefault: true))
            try await formats.save(clientID: b.id, SavedFormat(name: "um", format: columns, isDefault: true))
            #expect(try await formats.defaultFormat(clientID: a.id)?.name == "dois")
            #expect(try await formats.list(clientID: a.id).map { "\($0.name):\($0.isDefault)" } == ["dois:true", "um:false"])
            #expect(try await formats.defaultFormat(clientID: b.id)?.name == "um")
            var comma = columns
            comma.decimalFormat = .comma
            try await formats.save(clientID: a.id, SavedFormat(name: "um", format: comma))
            #expect(try await formats.get(clientID: a.id, name: "um")?.format.decimalFormat == .comma)
            #expect(try await formats.delete(clientID: a.id, name: "um"))
            #expect(try await formats.get(clientID: a.id, name: "um") == nil)
            #expect(try await formats.get(clientID: b.id, name: "um") != nil)
        }
    }

    @Test("job queue: one claim at a time, leases expire, lost leases cannot commit, failures back off then die",
          arguments: TestDatabase.dialects)
    func jobQueue(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let queue = JobQueue(db: db, retry: RetryPolicy(maxAttempts: 2, baseSeconds: 60, capSeconds: 60))
            let h = try await PipelineHarness.make(db)
            let batchID = try await h.submit(Array("x".utf8))
            // A step with two attempts; enqueuing the same step again is a no-op.
            for _ in 0..<2 {
                try await db.write { try await JobQueue.enqueue($0, .batch(.finalize, batchID: batchID), traceID: "t", maxAttempts: 2) }
            }
            #expect(try await queue.list(state: .queued).map(\.kind) == [.pick, .finalize])

            let t0 = Date()
            let a = try #require(try await queue.claim(kinds: [.finalize], owner: "A", lease: 10, now: t0))
            #expect(a.attempts == 1)
            #expect(try await queue.claim(kinds: [.finalize], owner: "B", lease: 10, now: t0) == nil)
            #expect(try await queue.claim(kinds: [.transform], owner: "B", lease: 10, now: t0.addingTimeInterval(60)) == nil)
            #expect(a.kind == .finalize && a.maxAttempts == 2)

            // A's lease runs out; B takes the job; A can no longer complete it.
            let b = try #require(try await queue.claim(kinds: [.finalize], owner: "B", lease: 10, now: t0.addingTimeInterval(11)))
            #expect(b.id == a.id && b.attempts == 2)
            #expect(try await queue.renew(jobID: a.id, owner: "A", lease: 10) == false)
            await #expect(throws: StoreError.leaseLost(jobID: a.id)) {
                try await db.write { try await JobQueue.complete($0, job: a, owner: "A") }
            }

            // B fails on the last attempt: dead. An operator retries it: queued again, attempts reset.
            #expect(try await queue.fail(job: b, owner: "B", error: "boom", now: t0, unit: 0.5) == .dead)
            let dead = try await queue.list(state: .dead)
            #expect(dead.map(\.id) == [a.id] && dead[0].lastError == "boom")
            #expect(try await queue.retryDead(id: a.id, by: .cli(user: "test")))
            let again = try #require(try await queue.claim(kinds: [.finalize], owner: "C", lease: 10))
            #expect(again.attempts == 1)

            // A failure before the last attempt waits: 60 s × 2^0 × 0.5 = 30 s.
            #expect(try await queue.fail(job: again, owner: "C", error: "transient", now: t0, unit: 0.5) == .queued)
            #expect(try await queue.claim(kinds: [.finalize], owner: "D", lease: 10, now: t0.addingTimeInterval(29)) == nil)
            #expect(try await queue.claim(kinds: [.finalize], owner: "D", lease: 10, now: t0.addingTimeInterval(31)) != nil)
        }
    }

    @Test("a job that dies alerts the operators' targets that want job.dead, each death once, its error's documents hidden",
          arguments: TestDatabase.dialects)
    func deadJobAlert(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let queue = JobQueue(db: db, retry: RetryPolicy(maxAttempts: 1, baseSeconds: 60, capSeconds: 60))
            let notifications = NotificationStore(db: db)
            let (wants, _) = try await notifications.createAlertTarget(url: nil, address: "operacao@agencia.test", events: [.jobDead])
            _ = try await notifications.createAlertTarget(url: nil, address: "lago@agencia.test", events: [.lakeRunFailed])
            try await db.write { try await JobQueue.enqueue($0, .subBatch(.transform, batchID: "b-1", seq: 3), traceID: "t", maxAttempts: 1) }
            func alerts() async throws -> [(endpoint: String, payload: [String: Any])] {
                try await db.query("SELECT endpoint_id, payload FROM notifications WHERE client_id = '' AND event = 'job.dead' ORDER BY id").map {
                    (try $0.string("endpoint_id"),
                     try JSONSerialization.jsonObject(with: Data(try $0.string("payload").utf8)) as! [String: Any])
                }
            }

            // A failure that is not the last attempt would alert nothing; this one is the last.
            let job = try #require(try await queue.claim(kinds: [.transform], owner: "A", lease: 10))
            #expect(try await alerts().isEmpty)
            #expect(try await queue.fail(job: job, owner: "A", error: "violates key: document 529.982.247-25", now: Date()) == .dead)
            let first = try await alerts()
            #expect(first.count == 1 && first.first?.endpoint == wants.id)
            let p = try #require(first.first?.payload)
            #expect(p["event"] as? String == "job.dead" && p["job"] as? Int == job.id && p["kind"] as? String == "transform")
            #expect(p["batch_id"] as? String == "b-1" && p["seq"] as? Int == 3 && p["attempts"] as? Int == 1)
            // The CPF 529.982.247-25 keeps its first and last two digits only (as in the logs).
            #expect(p["error"] as? String == "violates key: document 52*******25")

            // A second failure report for the same attempt (the lease no longer held) changes nothing.
            #expect(try await queue.fail(job: job, owner: "A", error: "again", now: Date()) == .dead)
            #expect(try await alerts().count == 1)

            // Revived, and dead again (buried: claimed more often than it may be): a second alert.
            #expect(try await queue.retryDead(id: job.id, by: .cli(user: "test")))
            let again = try #require(try await queue.claim(kinds: [.transform], owner: "B", lease: 10))
            try await queue.bury(job: again, reason: "claimed 2 times; its worker died each time", now: Date().addingTimeInterval(1))
            let second = try await alerts()
            #expect(second.count == 2 && second.last?.payload["error"] as? String == "claimed 2 times; its worker died each time")
            // Burying a job already dead alerts nothing more.
            try await queue.bury(job: again, reason: "twice", now: Date().addingTimeInterval(2))
            #expect(try await alerts().count == 2)
        }
    }

    @Test("statements sent to SQLite's connection without waiting run in the order sent, each task with its own outcome")
    func sentInOrder() async throws {
        try await TestDatabase.with(.sqlite) { db in
            let (seen, failed) = try await db.write { c in
                try await c.execute("CREATE TABLE sent (n BIGINT NOT NULL)")
                try await c.execute("INSERT INTO sent (n) VALUES (0)")
                // Each update doubles what the one before left and adds its own k, so only the order
                // sent gives, from 0: 0·2+1 = 1, 1·2+2 = 4, 4·2+3 = 11, 11·2+4 = 26, 26·2+5 = 57.
                // (Swapping the first two alone would give 0·2+2 = 2, 2·2+1 = 5, …)
                var sent: [Task<[Int], any Error>] = []
                for k in 1...5 {
                    sent.append(c.send(["UPDATE sent SET n = n * 2 + \(k)"]))
                    if k == 3 { sent.append(c.send(["UPDATE no_such_table SET n = 0"])) }
                }
                let read = c.sendQueryText("SELECT n FROM sent")
                var failed = 0
                for task in sent {
                    do { #expect(try await task.value == [1]) } catch is SQLError { failed += 1 }
                }
                return (try await read.value.withRows { $0.int(0, 0) }, failed)
            }
            #expect(seen == 57)
            #expect(failed == 1)
        }
    }

    @Test("a failed transaction leaves nothing behind", arguments: TestDatabase.dialects)
    func rollback(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await db.write { c in
                    try await c.execute("INSERT INTO clients (id, num, name, document, sub_batch_size, trace_id, created_at) VALUES ('x', 1, 'n', 'd', 1, 't', \(Date()))")
                    throw Boom()
                }
            }
            let left = try await db.query("SELECT COUNT(*) AS n FROM clients")[0].int("n")
            #expect(left == 0)
        }
    }

    @Test("bulk inserts keep every value exactly: escapes, unicode, nulls, extremes, days, microseconds",
          arguments: TestDatabase.bulkVariants)
    func bulkInsertValues(variant: TestDatabase.BulkVariant) async throws {
        let dialect = variant.dialect
        try await TestDatabase.with(dialect, postgresBulkWrites: variant.writes) { db in
            let (day, ts) = dialect == .sqlite ? ("TEXT", "TEXT") : ("DATE", "TIMESTAMPTZ")
            _ = try await db.execute("CREATE TABLE bulk (k BIGINT NOT NULL, t TEXT, d \(raw: day), m \(raw: ts))")
            // Text that PostgreSQL's COPY text format must escape (backslash, tab, newline, carriage
            // return), the literal two characters of its null marker, and multi-byte UTF-8; and a text
            // of 12,000 bytes escaped into 18,000, more than the room the encoder starts with.
            let texts: [String?] = ["a\tb", "sino\u{7}", "um\ndois\r\ntrês", "C:\\pasta\\arquivo", "\\N", "", "Ação ✓ 😀", nil, "fim\\",
                                    String(repeating: "ab\\\t", count: 3_000)]
            // 2024-02-29 12:34:56.789012 UTC = 1,709,210,096 s (19,782 days × 86,400 + 45,296 s) + 0.789012.
            let moment = Date(timeIntervalSince1970: 1_709_210_096.789012)
            let rows: [[SQLValue]] = texts.enumerated().map { i, t in
                [.int(i == 0 ? Int64.max : Int64(i) - 4), t.map(SQLValue.text) ?? .null,
                 .day(Day(year: 2024, month: 2, day: 29)!), .timestamp(moment)]
            }
            try await db.write { try await $0.insert(into: "bulk", columns: ["k", "t", "d", "m"], rows: rows) }
            let back = try await db.query("SELECT k, t, d, m FROM bulk ORDER BY k")
            let expected = zip(rows.map { $0[0] }, texts).sorted { a, b in
                if case .int(let x) = a.0, case .int(let y) = b.0 { return x < y }
                return false
            }
            #expect(back.count == texts.count)
            for (row, (k, t)) in zip(back, expected) {
                #expect(row.values[0] == k)
                #expect(try row.optionalString("t") == t)
                #expect(try row.day("d") == Day(year: 2024, month: 2, day: 29))
                #expect(Timestamp.iso(try row.date("m")) == "2024-02-29T12:34:56.789012Z")
            }
        }
    }

    @Test("inserting with conflicts ignored says which rows went in", arguments: TestDatabase.bulkVariants)
    func insertIgnoringConflicts(variant: TestDatabase.BulkVariant) async throws {
        let dialect = variant.dialect
        try await TestDatabase.with(dialect, postgresBulkWrites: variant.writes) { db in
            let id = dialect == .sqlite ? "INTEGER PRIMARY KEY" : "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            _ = try await db.execute("CREATE TABLE pairs (id \(raw: id), k1 BIGINT NOT NULL, k2 TEXT NOT NULL, v TEXT NOT NULL)")
            _ = try await db.execute("CREATE UNIQUE INDEX pairs_k ON pairs (k1, k2)")
            func insert(_ rows: [(Int64, String, String)]) async throws -> [Bool] {
                try await db.write { c in
                    try await c.insert(into: "pairs", columns: ["k1", "k2", "v"], rows: rows.map { [.int($0.0), .text($0.1), .text($0.2)] },
                                       ignoringConflictsOn: ["k1", "k2"])
                }
            }
            // 200 new rows (more than one multi-row statement): all go in.
            #expect(try await insert((0..<200).map { (1, "a\($0)", "first") }) == Array(repeating: true, count: 200))
            // Mixed: a taken key, a new key, the same taken key under another k1 (new), a new key offered
            // twice (only its first row goes in), and a taken key again.
            let flags = try await insert([(1, "a5", "x"), (1, "b1", "x"), (2, "a5", "x"), (1, "b2", "one"), (1, "b2", "two"),
                                          (1, "a199", "x")])
            #expect(flags == [false, true, true, true, false, false])
            // The registry kept the first content of every key.
            let kept = try await db.query("SELECT v FROM pairs WHERE k1 = 1 AND k2 IN ('a5', 'b2', 'a199') ORDER BY k2").map { try $0.string("v") }
            #expect(kept == ["first", "first", "one"])
            #expect(try await db.query("SELECT COUNT(*) AS n FROM pairs")[0].int("n") == 203)
        }
    }

    /// Without a covering index SQLite finds the document's rows and reads each from the table to
    /// check its client: the plan then says "USING INDEX risk_decisions_document".
    @Test("the velocity count is answered from an index alone (SQLite's plan)")
    func velocityCountIndex() async throws {
        try await TestDatabase.with(.sqlite) { db in
            let plan = try await db.query("""
                EXPLAIN QUERY PLAN SELECT document, COUNT(*) AS n FROM risk_decisions
                WHERE document IN ('52998224725') AND client_id = 'c1' AND created_at >= 0 GROUP BY document
                """).map { try $0.string("detail") }.joined(separator: " | ")
            #expect(plan.contains("USING COVERING INDEX risk_decisions_client_document"), "\(plan)")
        }
    }

    /// Before, `JobKind(rawValue:) ?? .pick` read a kind this version does not know (a newer
    /// version's, a typo by hand) as a pick, and a worker would have split the batch again.
    @Test("a stored job kind the code does not know is an error naming it, not a pick", arguments: TestDatabase.dialects)
    func unknownStoredKind(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            try await db.write { try await JobQueue.enqueue($0, .subBatch(.transform, batchID: "b-1", seq: 1), traceID: "t", maxAttempts: 1) }
            _ = try await db.execute("UPDATE jobs SET kind = 'reindex'")
            let error = try await #require(throws: SQLError.self) { try await JobQueue(db: db).list(state: nil) }
            #expect(error.message.contains("kind: 'reindex' is not a known JobKind"), "\(error)")
            #expect(error.sql.contains("FROM jobs"), "\(error.sql)")
        }
    }

    @Test("a job's payload is typed by its kind: the columns of each kind read back as written, and a transform of the whole batch is an error",
          arguments: TestDatabase.dialects)
    func jobPayloads(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let payloads: [JobPayload] = [.batch(.pick, batchID: "b-1"), .subBatch(.register, batchID: "b-1", seq: 4),
                                          .ledgerRequest(id: "lr-1"), .lakeStep(runID: "run-1", step: 2)]
            for payload in payloads {
                try await db.write { try await JobQueue.enqueue($0, payload, traceID: "t", maxAttempts: 1) }
            }
            #expect(Set(try await JobQueue(db: db).list(state: nil).map { "\($0.payload)" }) == Set(payloads.map { "\($0)" }))
            // The ledger's request id and the lake's run id sit in batch_id, the lake's step in seq.
            let columns = try await db.query("SELECT kind, batch_id, seq FROM jobs ORDER BY kind").map {
                "\(try $0.string("kind")):\(try $0.string("batch_id")):\(try $0.int("seq"))"
            }
            #expect(columns == ["lake:run-1:2", "ledger:lr-1:0", "pick:b-1:-1", "register:b-1:4"])
            _ = try await db.execute("UPDATE jobs SET seq = -1 WHERE kind = 'register'")
            let error = try await #require(throws: SQLError.self) { try await JobQueue(db: db).list(state: nil) }
            #expect(error.message.contains("a register job cannot have sequence -1"), "\(error)")
        }
    }

    @Test("reading a column the result lacks is an error naming it and the columns there are", arguments: TestDatabase.dialects)
    func missingColumn(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let row = try #require(try await db.query("SELECT 1 AS one, 'x' AS letter").first)
            let error = try #require(throws: SQLError.self) { try row.optionalString("lettre") }
            #expect(error.message == "column lettre is not in the result (it has letter, one)")
            #expect(try row.string("letter") == "x")
        }
    }

    @Test("docs/schema shows the schema the migrations make (scripts/schema rewrites it)", arguments: TestDatabase.dialects)
    func schemaDocument(dialect: SQLDialect) async throws {
        let file = ListeningProcess.repositoryRoot(#filePath).appendingPathComponent("docs/schema/\(dialect == .sqlite ? "sqlite" : "postgres").sql")
        let documented = try String(contentsOf: file, encoding: .utf8)
        try await TestDatabase.with(dialect) { db in
            let current = try await SchemaDump.sql(of: db)
            #expect(current == documented, "a migration changed the schema: run scripts/schema")
        }
    }
}

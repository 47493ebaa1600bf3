import EsteiraBlobs
import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Pipeline on SQLite and PostgreSQL")
struct PipelineTests {
    // Sub-batches of 3 rows, so repeats cross sub-batch edges.
    // Line: expected outcome (the header is line 1).
    static let file = """
        id_divida;nome;cpf_cnpj;valor;vencimento;email
        D1;Maria;248.438.034-80;1.234,56;01/02/2024;maria@example.com
        D2;João;111.444.777-35;10,00;2024-01-31;
        D3;Ana;248.438.034-70;5,00;2024-01-31;
        D4;Loja;12.ABC.345/01DE-35;0;2024-01-31;
        D1;Maria;248.438.034-80;1.234,56;01/02/2024;maria@example.com
        D2;João;111.444.777-35;99,00;2024-01-31;
        D5;"Zé ""Aspas""
        Silva";012.345.678-90;7;2024-01-31;
        D6;Só três;colunas

        D7;Pedro;11.222.333/0001-81;1,5;31/12/2099;pedro@

        """
    // Line 2 D1 registered; 3 D2 registered; 4 D3 R003; 5 D4 R005; 6 D1 duplicate; 7 D2 conflict R009;
    // 8-9 D5 registered (starts on line 8); 10 D6 R010; 11 blank, skipped; 12 D7 R007 + R008.
    static let expectedRejects = [
        "4:document:R003", "5:amount:R005", "7:external_id:R009", "10::R010", "12:due_date:R007", "12:email:R008",
    ]

    @Test("a file with good, bad, duplicate and conflicting rows ends with exact counts", arguments: TestDatabase.dialects)
    func mixedFile(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let batch = try await h.run(Self.file)
            #expect(batch.status == .completedWithRejects)
            #expect(batch.counts == BatchCounts(received: 9, registered: 3, duplicates: 1, rejected: 5))
            #expect(batch.subBatches == 3)
            let rejects = try await DebtRegistry(db: db).rejects(batchID: batch.id, page: 1, perPage: 100)
            #expect(rejects.items.map { "\($0.line):\($0.field):\($0.code)" } == Self.expectedRejects)
            let d5 = try #require(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "D5"))
            #expect(d5.debt.name == "Zé \"Aspas\"\nSilva")
            #expect(d5.debt.document.value == "01234567890")
            #expect(d5.line == 8)
            // The registry kept the first D2.
            #expect(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "D2")?.debt.amountCents == 1_000)

            // Sending the same file again: every good row is now a duplicate, and D2's second line still conflicts.
            let again = try await h.run(Self.file)
            #expect(again.counts == BatchCounts(received: 9, registered: 0, duplicates: 4, rejected: 5))
            #expect(try await db.query("SELECT COUNT(*) AS n FROM debts")[0].int("n") == 3)
        }
    }

    @Test("a client's debts of one document: found whatever its mask or case, through the document's key, never another client's",
          arguments: TestDatabase.dialects)
    func debtsOfOneDocument(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 2)
            let other = try await PipelineHarness.make(db, subBatchSize: 2)
            let file = """
                id_divida;nome;cpf_cnpj;valor;vencimento
                A1;Maria;248.438.034-80;10,00;2024-01-31
                A2;Loja;12.ABC.345/01DE-35;20,00;2024-01-31
                A3;Maria;24843803480;30,00;2024-01-31
                A4;Empresa;11.222.333/0001-81;40,00;2024-01-31

                """
            #expect(try await h.run(file).counts.registered == 4)
            #expect(try await other.run("id_divida;nome;cpf_cnpj;valor;vencimento\nB1;Maria;248.438.034-80;50,00;2024-01-31\n").counts.registered == 1)
            let registry = DebtRegistry(db: db)
            func filter(_ document: String) -> DebtFilter {
                var filter = DebtFilter()
                switch TaxID.parse(document) {
                case .success(let id): filter.document = id
                case .failure: filter.impossibleDocument = true
                }
                return filter
            }
            func ids(_ document: String) async throws -> [String] {
                try await registry.debts(clientNum: h.client.num, filter: filter(document), page: 1, perPage: 10).items.map(\.debt.externalID)
            }
            #expect(try await ids("248.438.034-80") == ["A1", "A3"])
            #expect(try await ids("12abc34501de35") == ["A2"])
            #expect(try await ids("11222333000181") == ["A4"])
            // Wrong check digits: no debt has it.
            #expect(try await ids("248.438.034-70") == [])
            // The key written with each debt, by hand (TaxIDTests has the arithmetic): the CPF's
            // digits; 10¹¹ + the CNPJ's first twelve characters in base 36.
            let keys = try await db.query("SELECT external_id, doc_key FROM debts WHERE client_num = \(h.client.num) ORDER BY external_id")
            #expect(try keys.map { try $0.int("doc_key") } == [24_843_803_480, 139_981_699_648_639_986, 24_843_803_480, 135_486_887_860_594_433])
        }
    }

    @Test("text that PostgreSQL's COPY escapes reaches the registry as the file had it, registered and re-sent",
          arguments: TestDatabase.dialects)
    func escapedText(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 2)
            // Quoted fields holding a tab, a backslash, a carriage return and a line break, and the
            // text \N (COPY's null, here as text) in several columns. E3's phone is quoted and
            // empty, which the validator reads as no phone.
            let file = "id_divida;nome;cpf_cnpj;valor;vencimento;email;telefone;descricao\n"
                + "\"E\\1\";\"Ana\tMaria\\Souza\";248.438.034-80;1.234,56;01/02/2024;;\"\\N\";\"a\r\nb\"\n"
                + "E2;Loja;12.ABC.345/01DE-35;7,00;2024-01-31;loja@example.com;;\\N\n"
                + "E3;Zé;11.222.333/0001-81;0,01;2024-01-31;;\"\";x\n"
            let expected: [String: Debt] = [
                "E\\1": Debt(externalID: "E\\1", name: "Ana\tMaria\\Souza", document: try TaxID.parse("24843803480").get(),
                             amountCents: 123_456, dueDate: Day(year: 2024, month: 2, day: 1)!, email: nil, phone: "\\N",
                             description: "a\r\nb"),
                "E2": Debt(externalID: "E2", name: "Loja", document: try TaxID.parse("12ABC34501DE35").get(), amountCents: 700,
                           dueDate: Day(year: 2024, month: 1, day: 31)!, email: "loja@example.com", phone: nil,
                           description: "\\N"),
                "E3": Debt(externalID: "E3", name: "Zé", document: try TaxID.parse("11222333000181").get(), amountCents: 1,
                           dueDate: Day(year: 2024, month: 1, day: 31)!, email: nil, phone: nil, description: "x"),
            ]
            let batch = try await h.run(file)
            #expect(batch.counts == BatchCounts(received: 3, registered: 3, duplicates: 0, rejected: 0))
            for (id, debt) in expected {
                #expect(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: id)?.debt == debt)
            }
            // Sent again, each row is compared with the registry's: all duplicates, none a conflict.
            let again = try await h.run(file)
            #expect(again.counts == BatchCounts(received: 3, registered: 0, duplicates: 3, rejected: 0))
        }
    }

    @Test("a debt registered by a batch carries the moment of its registration (PostgreSQL: the column's default); a conflict's raw text is its line",
          arguments: TestDatabase.dialects)
    func registeredAtAndConflictRaw(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let before = Date()
            let batch = try await h.run(Self.file)
            let after = Date()
            let d1 = try #require(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "D1"))
            // Between the test's two readings of the clock (a second of slack: PostgreSQL keeps microseconds).
            #expect(d1.createdAt >= before.addingTimeInterval(-1))
            #expect(d1.createdAt <= after.addingTimeInterval(1))
            let rejects = try await DebtRegistry(db: db).rejects(batchID: batch.id, page: 1, perPage: 100)
            let conflict = try #require(rejects.items.first { $0.code == RejectCode.conflict.rawValue })
            // Line 7 of the file above, as it stands there.
            #expect(conflict.raw == "D2;João;111.444.777-35;99,00;2024-01-31;")
            if dialect == .postgres {
                let column = try await db.query("""
                    SELECT column_default FROM information_schema.columns WHERE table_name = 'debts' AND column_name = 'created_at'
                    """)
                #expect(try column.first?.string("column_default") == "now()")
            }
        }
    }

    @Test("four workers at once give the same result as one: sub-batches commit in file order",
          arguments: TestDatabase.dialects)
    func concurrentWorkers(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            // Sub-batches of one row: every repeat crosses a sub-batch edge.
            let h = try await PipelineHarness.make(db, subBatchSize: 1)
            for round in 0..<3 {
                let id = try await h.submit(Array(Self.file.utf8))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<4 { group.addTask { try await h.drain(owner: "w\(w)") } }
                    try await group.waitForAll()
                }
                let batch = try #require(try await BatchStore(db: db).get(id: id))
                let expected = round == 0 ? BatchCounts(received: 9, registered: 3, duplicates: 1, rejected: 5)
                                          : BatchCounts(received: 9, registered: 0, duplicates: 4, rejected: 5)
                #expect(batch.counts == expected)
                let rejects = try await DebtRegistry(db: db).rejects(batchID: id, page: 1, perPage: 100)
                #expect(rejects.items.map { "\($0.line):\($0.field):\($0.code)" } == Self.expectedRejects)
            }
            #expect(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "D2")?.debt.amountCents == 1_000)
        }
    }

    @Test("ids repeated across neighbouring sub-batches: the first in the file wins, with four workers at once",
          arguments: TestDatabase.dialects)
    func firstInFileWins(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            // 60 rows; row i (line i + 2) has id R((i / 3) % 7) and amount i + 1 reais, so every row
            // but the first of each id conflicts. With sub-batches of 2 rows, neighbouring sub-batches
            // share ids, and on PostgreSQL their registers run at once.
            let rows = (0..<60).map { i in "R\((i / 3) % 7);Devedor \(i);248.438.034-80;\(i + 1);2024-01-01;" }
            let file = "id_divida;nome;cpf;valor;vencimento;email\n" + rows.joined(separator: "\n") + "\n"
            let h = try await PipelineHarness.make(db, subBatchSize: 2)
            // By hand: R0..R6 first appear on rows 0, 3, ..., 18; the other 53 rows conflict (R009).
            let firstRows = Set((0..<7).map { $0 * 3 })
            let conflictLines = (0..<60).filter { !firstRows.contains($0) }.map { "\($0 + 2):external_id:R009" }
            for round in 0..<2 {
                let id = try await h.submit(Array(file.utf8))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for w in 0..<4 { group.addTask { try await h.drain(owner: "w\(w)") } }
                    try await group.waitForAll()
                }
                let batch = try #require(try await BatchStore(db: db).get(id: id))
                #expect(batch.counts == BatchCounts(received: 60, registered: round == 0 ? 7 : 0,
                                                    duplicates: round == 0 ? 0 : 7, rejected: 53))
                let rejects = try await DebtRegistry(db: db).rejects(batchID: id, page: 1, perPage: 100)
                #expect(rejects.items.map { "\($0.line):\($0.field):\($0.code)" } == conflictLines)
            }
            for j in 0..<7 {
                // R_j's first row is 3j: amount 3j + 1 reais.
                let debt = try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "R\(j)")
                #expect(debt?.debt.amountCents == Int64(3 * j + 1) * 100)
                #expect(debt?.line == 3 * j + 2)
            }
        }
    }

    @Test("two registers of one batch at once keep the file's order, whoever inserts first",
          arguments: TestDatabase.dialects)
    func registersAtOnce(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            var settings = Worker.Settings()
            settings.kinds = [.pick, .transform]
            let splitter = Worker(pipeline: h.pipeline, settings: settings)
            let queue = JobQueue(db: db)
            for round in 0..<12 {
                // Sub-batch 0: A 1, B 2, C 3; sub-batch 1: C 4, B 5, D 6. Registered: A, B, C, D with
                // B = 2 and C = 3 (the first in the file); lines 5 and 6 conflict.
                let rows = [("A", 1), ("B", 2), ("C", 3), ("C", 4), ("B", 5), ("D", 6)]
                let file = "id_divida;nome;cpf;valor;vencimento\n"
                    + rows.map { "\(round)-\($0.0);Nome;248.438.034-80;\($0.1);2024-01-01\n" }.joined()
                let id = try await h.submit(Array(file.utf8))
                while try await splitter.runNext(owner: "split") {}
                // Both registers claimed (1 may be handed out once 0 is running), then run at once.
                let first = try #require(try await queue.claim(kinds: [.register], owner: "a", lease: 30))
                let second = try #require(try await queue.claim(kinds: [.register], owner: "b", lease: 30))
                #expect(first.seq == 0 && second.seq == 1)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (job, owner) in [(second, "b"), (first, "a")] {
                        group.addTask {
                            do { try await h.pipeline.run(job, owner: owner) } catch is NotYet {
                                try await queue.postpone(job: job, owner: owner, seconds: 0)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                try await h.drain()
                let batch = try #require(try await BatchStore(db: db).get(id: id))
                #expect(batch.counts == BatchCounts(received: 6, registered: 4, duplicates: 0, rejected: 2))
                let rejects = try await DebtRegistry(db: db).rejects(batchID: id, page: 1, perPage: 10)
                #expect(rejects.items.map { "\($0.line):\($0.code)" } == ["5:R009", "6:R009"])
                let registry = DebtRegistry(db: db)
                #expect(try await registry.debt(clientNum: h.client.num, externalID: "\(round)-B")?.debt.amountCents == 200)
                #expect(try await registry.debt(clientNum: h.client.num, externalID: "\(round)-C")?.debt.amountCents == 300)
            }
        }
    }

    /// A file of `subBatches` sub-batches of 3 distinct, valid rows each, split and transformed:
    /// its register steps are queued.
    static func transformed(_ h: PipelineHarness, subBatches: Int, tag: String) async throws -> String {
        let file = "id_divida;nome;cpf;valor;vencimento\n"
            + (0..<(3 * subBatches)).map { "\(tag)-\($0);Nome;248.438.034-80;\($0 + 1);2024-01-01\n" }.joined()
        let id = try await h.submit(Array(file.utf8))
        var settings = Worker.Settings()
        settings.kinds = [.pick, .transform]
        let splitter = Worker(pipeline: h.pipeline, settings: settings)
        while try await splitter.runNext(owner: "split") {}
        return id
    }

    /// One register step claimed for each owner, in turn; each claim must find one.
    static func claimRegisters(_ queue: JobQueue, owners: [String]) async throws -> [Job] {
        var claimed: [Job] = []
        for owner in owners {
            claimed.append(try #require(try await queue.claim(kinds: [.register], owner: owner, lease: 30)))
        }
        return claimed
    }

    @Test("the queue hands out at most three register steps of a batch at once, in order",
          arguments: TestDatabase.dialects)
    func registerWindow(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let id = try await Self.transformed(h, subBatches: 5, tag: "W")
            let queue = JobQueue(db: db)
            let claimed = try await Self.claimRegisters(queue, owners: ["a", "b", "c"])
            #expect(claimed.map(\.seq) == [0, 1, 2])
            // Register 3 is queued and 2 is running, but 0 is not done: 3 waits.
            #expect(try await queue.claim(kinds: [.register], owner: "d", lease: 30) == nil)
            try await h.pipeline.run(claimed[0], owner: "a")
            let fourth = try #require(try await queue.claim(kinds: [.register], owner: "d", lease: 30))
            #expect(fourth.seq == 3)
            // Register 4 needs 1 done.
            #expect(try await queue.claim(kinds: [.register], owner: "e", lease: 30) == nil)
            for (job, owner) in [(claimed[1], "b"), (claimed[2], "c"), (fourth, "d")] {
                try await h.pipeline.run(job, owner: owner)
            }
            try await h.drain()
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.counts == BatchCounts(received: 15, registered: 15, duplicates: 0, rejected: 0))
        }
    }

    @Test("on PostgreSQL a register step opens its transaction only once the step two before has committed",
          .enabled(if: TestDatabase.postgresURL != nil))
    func registerLanes() async throws {
        try await TestDatabase.with(.postgres) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let id = try await Self.transformed(h, subBatches: 3, tag: "L")
            let queue = JobQueue(db: db)
            let claimed = try await Self.claimRegisters(queue, owners: ["a", "b", "c"])
            let third = claimed[2]
            // Its wait gives up after 2 s of register 0 not being in a transaction, and the step goes
            // back to the queue, as a worker would put it (on a busy machine, running 0 and 1 below
            // can take that long).
            let ended = Task {
                do { try await h.pipeline.run(third, owner: "c") } catch is NotYet {
                    try await queue.postpone(job: third, owner: "c", seconds: 0)
                }
            }
            // Whether a sub-batch's row can be locked for update. Register 2's wait locks row 0 for
            // an instant at each look, so it tries five times; a row held throughout fails all five.
            func lockable(_ seq: Int) async throws -> Bool {
                for _ in 0..<5 {
                    do {
                        try await db.write { c in
                            _ = try await c.query("SELECT seq FROM sub_batches WHERE batch_id = \(id) AND seq = \(seq) FOR UPDATE NOWAIT")
                        }
                        return true
                    } catch let error as SQLError where error.message.contains("could not obtain lock") {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                }
                return false
            }
            // Register 0 has not begun: register 2 is prepared but must not have opened its
            // transaction, which would hold its sub-batch's row (and insert, unseen until it commits);
            // and its wait must leave row 0 free, or register 0 could not begin (it locks its row).
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await lockable(2))
            #expect(try await lockable(0))
            #expect(try await db.query("SELECT state FROM jobs WHERE id = \(third.id)")[0].string("state") == "running")
            let registered = { try await db.query("SELECT COUNT(*) AS n FROM debts WHERE client_num = \(h.client.num)")[0].int("n") }
            try await h.pipeline.run(claimed[0], owner: "a")
            try await h.pipeline.run(claimed[1], owner: "b")
            try await ended.value
            try await h.drain()
            #expect(try await registered() == 9)
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.counts == BatchCounts(received: 9, registered: 9, duplicates: 0, rejected: 0))
            // In file order: the row of line k + 2 holds amount k + 1 reais.
            let last = try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "L-8")
            #expect(last?.debt.amountCents == 900 && last?.line == 10)
        }
    }

    @Test("on PostgreSQL an idle worker wakes on NOTIFY, not at its next poll",
          .enabled(if: TestDatabase.postgresURL != nil))
    func wakesOnNotify() async throws {
        try await TestDatabase.with(.postgres) { db in
            let h = try await PipelineHarness.make(db)
            var settings = Worker.Settings()
            settings.pollSeconds = 120 // polling alone would not start anything within the test
            let worker = Worker(pipeline: h.pipeline, settings: settings)
            let running = Task { try await worker.run() }
            // Let the slots claim nothing and go to sleep, and the listener start: wait until
            // PostgreSQL itself shows the LISTEN (a fixed second was too short on CI's busy cores,
            // and a notification sent before it is missed).
            let listening = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < listening, try await db.query("""
                SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'
                """)[0].int("n") == 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(200))
            // Enqueued by another "process": the batch row and its pick job, committed with NOTIFY.
            let id = try await h.submit(Array(Self.file.utf8))
            let deadline = ContinuousClock.now + .seconds(20)
            var batch = try await BatchStore(db: db).get(id: id)
            while batch?.status.isFinal != true && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                batch = try await BatchStore(db: db).get(id: id)
            }
            running.cancel()
            await worker.wake()
            _ = try? await running.value
            #expect(batch?.counts == BatchCounts(received: 9, registered: 3, duplicates: 1, rejected: 5))
        }
    }

    @Test("a staging file that cannot be deleted is not left in silence: the cleanup job fails, is retried, and deletes it",
          arguments: TestDatabase.dialects)
    func cleanupRetried(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 3)
            let flaky = FlakyDeletes(h.blobs)
            let id = try await h.submit(Array(Self.file.utf8))
            var settings = Worker.Settings()
            settings.concurrency = 1
            let worker = Worker(pipeline: Pipeline(db: db, blobs: flaky, logger: TestDatabase.logger), settings: settings)
            let queue = JobQueue(db: db)
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                if try await worker.runNext(owner: "w") { continue }
                if try await queue.list(state: .queued).isEmpty { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.status == .completedWithRejects)
            let cleanup = try await db.query("SELECT state, attempts FROM jobs WHERE kind = 'cleanup' AND batch_id = \(id)")
            #expect(cleanup.count == 1)
            #expect(try cleanup.first?.string("state") == "done" && cleanup.first?.int("attempts") == 2)
            // Three sub-batches: three deletes refused the first time, all three done the second.
            #expect(flaky.refused.withLock { $0 } == 3)
            for seq in 0..<3 {
                await #expect(throws: (any Error).self) { _ = try await h.blobs.size(key: BlobKeys.staging(batchID: id, seq: seq)) }
            }
        }
    }

    @Test("files unusable as a whole fail with a Portuguese reason", arguments: TestDatabase.dialects)
    func failedFiles(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db)
            let hasLibreOffice = ["/usr/bin/soffice", "/usr/bin/libreoffice"].contains { FileManager.default.fileExists(atPath: $0) }
            let cases: [([UInt8], String)] = [
                ([], "F001"),
                (Array("\u{FEFF}\n\n".utf8), "F001"),
                // Signatures from the formats' specifications: a ZIP local file header "PK\3\4"
                // (PKWARE APPNOTE 4.3.7) is read as an XLSX, and eight bytes of one are a corrupt
                // spreadsheet; an OLE2 compound file is an XLS, which needs LibreOffice (not
                // installed here: F014; installed, it cannot convert these ten bytes: F010).
                // Then "%PDF-" (ISO 32000-1 7.5.2), gzip 1F 8B (RFC 1952 2.3.1), other binary.
                ([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00], "F010"),
                ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0x00, 0x00], hasLibreOffice ? "F010" : "F014"),
                (Array("%PDF-1.7\n".utf8) + [0x00, 0xE2, 0xE3], "F002"),
                ([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00], "F002"),
                ([0x00, 0x01, 0x02, 0x03], "F002"),
                (Array("nome;cpf;valor\nMaria;248.438.034-80;10\n".utf8), "F004"),
                (Array("id_divida;nome;cpf;valor;vencimento\n".utf8), "F003"),
                // Line 3 opens a quote that never closes: 1.2 MB of rows become one record.
                (Array(("id_divida;nome;cpf;valor;vencimento\nX1;Ana;248.438.034-80;1;2024-01-01\nX2;\"Bia;248.438.034-80;1;2024-01-01\n"
                        + String(repeating: "X3;Caio;248.438.034-80;1;2024-01-01\n", count: 35_000)).utf8), "F006"),
            ]
            // What the client reads for each binary case, in order.
            var binaryMessages: [String] = []
            for (bytes, code) in cases {
                let id = try await h.submit(bytes)
                try await h.drain()
                let b = try #require(try await BatchStore(db: db).get(id: id))
                if ["F002", "F010", "F014"].contains(code) { binaryMessages.append(b.error ?? "") }
                #expect(b.status == .failed)
                #expect(b.errorCode == code)
                #expect(b.error?.isEmpty == false)
                #expect(b.finishedAt != nil)
                if code == "F006" { #expect(b.error?.contains("linha 3") == true) }
            }
            #expect(binaryMessages.count == 5)
            let named = ["XLSX", "XLS", "PDF", "gzip", "binário"]
            for (message, word) in zip(binaryMessages, named) { #expect(message.contains(word), "\(message)") }
        }
    }

    @Test("Windows-1252 with commas reads the same as UTF-8 with BOM and semicolons", arguments: TestDatabase.dialects)
    func encodings(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 10)
            // "Ação" in Windows-1252 is 41 E7 E3 6F.
            let cp1252: [UInt8] = Array("debtId,name,governmentId,debtAmount,debtDueDate\r\nW1,".utf8) + [0x41, 0xE7, 0xE3, 0x6F]
                + Array(",248.438.034-80,\"1,50\",2024-01-01\r\n".utf8)
            let id = try await h.submit(cp1252)
            try await h.drain()
            #expect(try await BatchStore(db: db).get(id: id)?.counts == BatchCounts(received: 1, registered: 1))
            let w1 = try #require(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "W1"))
            #expect(w1.debt.name == "Ação")
            #expect(w1.debt.amountCents == 150)

            let utf8 = [0xEF, 0xBB, 0xBF] + Array("ID Dívida;Nome;CPF;Valor;Vencimento\nU1;Ação;248.438.034-80;1,50;01/01/2024\n".utf8)
            let id2 = try await h.submit(utf8)
            try await h.drain()
            #expect(try await BatchStore(db: db).get(id: id2)?.counts == BatchCounts(received: 1, registered: 1))
            #expect(try await DebtRegistry(db: db).debt(clientNum: h.client.num, externalID: "U1")?.debt.name == "Ação")
        }
    }

    @Test("a register step that runs twice at once counts once", arguments: TestDatabase.dialects)
    func registerTwice(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 100)
            var text = "id_divida;nome;cpf;valor;vencimento\n"
            for i in 0..<50 { text += "R\(i);Nome \(i);248.438.034-80;\(i + 1),00;2024-01-01\n" }
            let id = try await h.submit(Array(text.utf8))
            let queue = JobQueue(db: db)
            // pick, then transform.
            for _ in 0..<2 {
                let j = try #require(try await queue.claim(kinds: JobKind.allCases, owner: "w", lease: 30))
                try await h.pipeline.run(j, owner: "w")
            }
            // Worker A claims register; its lease runs out and worker B claims the same job.
            let a = try #require(try await queue.claim(kinds: [.register], owner: "A", lease: 30))
            let b = try #require(try await queue.claim(kinds: [.register], owner: "B", lease: 30, now: Date().addingTimeInterval(31)))
            #expect(a.id == b.id)
            async let ra = failure { try await h.pipeline.run(a, owner: "A") }
            async let rb = failure { try await h.pipeline.run(b, owner: "B") }
            let errors = await [ra, rb]
            // A's commit is refused (lost lease); B's goes through.
            #expect(errors[0] as? StoreError == .leaseLost(jobID: a.id))
            #expect(errors[1] == nil)
            try await h.drain()
            let batch = try #require(try await BatchStore(db: db).get(id: id))
            #expect(batch.counts == BatchCounts(received: 50, registered: 50))
            #expect(try await db.query("SELECT COUNT(*) AS n FROM debts")[0].int("n") == 50)
        }
    }

    @Test("two batches registering the same external_id at once: one debt, one duplicate or conflict",
          arguments: TestDatabase.dialects)
    func concurrentBatches(dialect: SQLDialect) async throws {
        try await TestDatabase.with(dialect) { db in
            let h = try await PipelineHarness.make(db, subBatchSize: 1000)
            var same = "id_divida;nome;cpf;valor;vencimento\n", different = same
            for i in 0..<300 {
                same += "C\(i);Nome;248.438.034-80;10,00;2024-01-01\n"
                different += "C\(i);Nome;248.438.034-80;\(i % 2 == 0 ? "10,00" : "11,00");2024-01-01\n"
            }
            let id1 = try await h.submit(Array(same.utf8)), id2 = try await h.submit(Array(different.utf8))
            // Four workers drain the queue concurrently.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for w in 0..<4 { group.addTask { try await h.drain(owner: "w\(w)") } }
                try await group.waitForAll()
            }
            try await h.drain()
            let b1 = try #require(try await BatchStore(db: db).get(id: id1))
            let b2 = try #require(try await BatchStore(db: db).get(id: id2))
            #expect(b1.counts.isBalanced && b2.counts.isBalanced)
            #expect(b1.counts.registered + b2.counts.registered == 300)
            // Rows equal in both files (even i) are duplicates the second time; odd ones conflict.
            #expect(b1.counts.duplicates + b2.counts.duplicates == 150)
            #expect(b1.counts.rejected + b2.counts.rejected == 150)
            #expect(try await db.query("SELECT COUNT(*) AS n FROM debts")[0].int("n") == 300)
        }
    }
}


/// The error `body` throws, or nil.
/// A blob store whose first delete of each key fails, as a store with a hiccup would.
final class FlakyDeletes: BlobStore {
    let inner: any BlobStore
    let refused = Mutex(0)
    private let seen = Mutex(Set<String>())
    init(_ inner: any BlobStore) { self.inner = inner }
    func makeWriter(key: String) async throws -> any BlobWriter { try await inner.makeWriter(key: key) }
    func put(key: String, bytes: [UInt8]) async throws { try await inner.put(key: key, bytes: bytes) }
    func read(key: String, offset: Int, length: Int) async throws -> [UInt8] { try await inner.read(key: key, offset: offset, length: length) }
    func readAll(key: String) async throws -> [UInt8] { try await inner.readAll(key: key) }
    func size(key: String) async throws -> Int { try await inner.size(key: key) }
    func list(prefix: String) async throws -> [BlobEntry] { try await inner.list(prefix: prefix) }
    func delete(key: String) async throws {
        if seen.withLock({ $0.insert(key).inserted }) {
            refused.withLock { $0 += 1 }
            throw BlobError(code: .io, key: key, detail: "delete refused once (test)")
        }
        try await inner.delete(key: key)
    }
}

func failure(_ body: () async throws -> Void) async -> (any Error)? {
    do { try await body(); return nil } catch { return error }
}

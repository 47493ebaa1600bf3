import EsteiraCore
import Foundation
import EsteiraTestSupport
import Testing

@Suite("End to end: a month into the lake's raw and curated layers", .offSharedPool)
struct LakeEndToEndTests {
    @Test("esteira lake run: the raw file unchanged, curated Parquet that DuckDB and pyarrow read, the quarantine and the reconciliation")
    func run() async throws {
        let server = try EsteiraProcess()
        defer { server.removeData() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esteira-lake-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let faturas = "id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura\nF1;C1;2026-10-01;2026-10-10;100,00\nF1;C1;2026-10-01;2026-10-10;100,00\n"
            + "F2;C2;2026-10-02;2026-10-12;1.234,56\nF3;C2;2026-10-02;2026-13-12;5,00\n"
        let pagamentos = "id_pagamento,id_fatura,id_cliente,dt_pagamento,vl_pagamento\nP1,F1,C1,2026-10-09,100.00\nP2,F2,C2,2026-10-20,34.56\n"
        try faturas.write(toFile: dir + "/tb_faturas_202610.csv", atomically: true, encoding: .utf8)
        try pagamentos.write(toFile: dir + "/tb_pagamentos_202610.csv", atomically: true, encoding: .utf8)

        let args = ["lake", "run", "--month", "2026-10", "--faturas", dir + "/tb_faturas_202610.csv",
                    "--pagamentos", dir + "/tb_pagamentos_202610.csv"]
        let text = try server.command(args)
        // By hand: 4 invoice rows = 2 curated (F1, F2) + 1 duplicate (F1) + 1 quarantined (month 13).
        #expect(text.contains("faturas 2026-10: 4 raw = 2 curated + 1 duplicates + 1 quarantined"))
        #expect(text.contains("pagamentos 2026-10: 2 raw = 2 curated + 0 duplicates + 0 quarantined"))

        let lake = server.dataDir + "/blobs/lake"
        // Each run lands its files in a folder of its own: the raw files received, by run.
        func rawFaturas() throws -> [Data] {
            let month = lake + "/raw/tb_faturas/ano=2026/mes=10"
            return try FileManager.default.contentsOfDirectory(atPath: month).filter { $0.hasPrefix("run=") }
                .compactMap { FileManager.default.contents(atPath: "\(month)/\($0)/tb_faturas_202610.csv") }
        }
        #expect(try rawFaturas() == [Data(faturas.utf8)])
        let quarantine = try String(contentsOfFile: lake + "/quarantine/faturas/ano=2026/mes=10/quarantine.csv", encoding: .utf8)
        #expect(quarantine.hasPrefix("linha;campo;codigo;motivo;registro\n5;dt_vencimento;LK102;"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: lake + "/curated/faturas/ano=2026/mes=10/_reconciliation.json"))) as? [String: Any]
        #expect(report?["counts"] as? [String: Int] == ["raw": 4, "curated": 2, "duplicates": 1, "quarantined": 1])

        // DuckDB over the curated layer, with the partitions as columns.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let query = """
            import duckdb, sys
            con = duckdb.connect()
            print(con.execute("SELECT sum(vl_fatura), count(*), min(dt_vencimento), max(ano), max(mes) FROM read_parquet(?, hive_partitioning = true)",
                              [sys.argv[1] + '/curated/faturas/*/*/*.parquet']).fetchone())
            """
        let (status, out) = try EsteiraProcess.output(of: root.appendingPathComponent(".venv/bin/python").path, ["-c", query, lake])
        // 100,00 + 1.234,56 = 1.334,56 over F1 and F2, the earliest due date October 10, partition 2026/10.
        #expect(status == 0 && out.contains("Decimal('1334.56'), 2, datetime.date(2026, 10, 10), 2026, 10"), "\(out)")

        // The book as of 2026-11-01 (the month after), by hand: U1M takes F1 (due 10-10, paid 10-09
        // in full: on time) and F2 (due 10-12, 34.56 of 1,234.56 paid by R: delinquent, 1,200.00
        // open, 20 days late). 134.56 / 1,334.56 = 0.10083 → 0.1008; two customers.
        #expect(text.contains("book 2026-11-01: 2 invoices and 2 payments from 2026-10; 8 customer rows"))
        let book = """
            import duckdb, sys
            print(duckdb.sql("SELECT periodo, total_faturas, valor_total_faturas, valor_medio_faturas, total_pagamentos, valor_total_pagamentos, "
                             "percentual_pagamento_prazo, total_atrasos, percentual_inadimplencia, media_dias_atraso, max_dias_atraso, "
                             "valor_inadimplente, percentual_valor_pago, total_clientes, media_fatura_por_cliente, dt_base "
                             "FROM read_parquet('" + sys.argv[1] + "/refined/book_resumo/*/*.parquet', hive_partitioning = true) "
                             "WHERE periodo = 'U1M'").fetchall())
            """
        let (bookStatus, bookOut) = try EsteiraProcess.output(of: root.appendingPathComponent(".venv/bin/python").path, ["-c", book, lake])
        #expect(bookStatus == 0 && bookOut.contains("('U1M', 2, Decimal('1334.56'), Decimal('667.28'), 2, Decimal('134.56'), Decimal('0.5000'), 0, "
                                                    + "Decimal('0.5000'), Decimal('20.00'), 20, Decimal('1200.00'), Decimal('0.1008'), 2, "
                                                    + "Decimal('667.28'), datetime.date(2026, 11, 1))"), "\(bookOut)")
        #expect(try server.command(["lake", "book", "--ref-date", "2026-11-01"]).contains("8 customer rows"))

        // The run's record, for operators: its steps with their counts.
        let op = try server.createOperator()
        try server.start(["ESTEIRA_LAKE_BUDGET_BYTES": "100"])
        defer { server.stop() }
        let runs = try await server.request("GET", "/v1/admin/lake/runs", key: op).json["items"]?.elements ?? []
        // The lake's size in /metrics: the raw layer is the two files as sent; over a 100-byte budget.
        let metrics = try await server.request("GET", "/metrics", key: nil).body
        #expect(metrics.contains("esteira_lake_bytes{layer=\"raw\"} \(faturas.utf8.count + pagamentos.utf8.count)"), "\(metrics)")
        #expect(metrics.contains("esteira_lake_files{layer=\"refined\"} 2") && metrics.contains("esteira_lake_over_budget 1"))
        #expect(server.logs().contains("lake storage over budget"))
        #expect(runs.first?["status"]?.string == "completed" && runs.first?["month"]?.string == "2026-10")
        let steps = runs.first?["steps"]?.elements ?? []
        #expect(steps.map { $0["name"]?.string ?? "" } == ["raw", "curate faturas", "curate pagamentos", "book"])
        #expect(steps.count == 4 && steps[1]["curated"]?.int == 2 && steps[1]["quarantined"]?.int == 1)
        #expect(steps.allSatisfy { $0["status"]?.string == "completed" && $0["attempts"]?.int == 1 })

        // Run again: the month is replaced whole, the counts the same (the times aside).
        let untimed = { (s: String) in s.replacingOccurrences(of: #" \(\d+\.\d\d s\)"#, with: "", options: .regularExpression) }
        #expect(untimed(try server.command(args)) == untimed(text))
        // A file without its amount column is refused by name, and the layers of the month stay as they were.
        try "id_fatura;id_cliente;dt_emissao;dt_vencimento\nF9;C9;2026-10-01;2026-10-10\n".write(toFile: dir + "/bad.csv", atomically: true, encoding: .utf8)
        let command = "'\(EsteiraProcess.binary)' lake run --month 2026-10 --faturas '\(dir)/bad.csv' --pagamentos '\(dir)/tb_pagamentos_202610.csv' 2>&1"
        let (badStatus, badText) = try EsteiraProcess.output(of: "/bin/sh", ["-c", command], environment: server.environmentForCommands)
        #expect(badStatus == 1 && badText.contains("LK002: falta a coluna obrigatória vl_fatura"), "\(badText)")
        // Two runs of the same files so far; the refused file, landed too, has another name.
        #expect(try rawFaturas() == [Data(faturas.utf8), Data(faturas.utf8)])
        let latest = (try await server.request("GET", "/v1/admin/lake/runs", key: op).json["items"]?.elements)?.first ?? .null
        #expect(latest["status"]?.string == "failed" && (latest["error"]?.string ?? "").contains("LK002"))

        // The month sent again with one invoice: its partitions are replaced whole, not added to.
        let resent = "id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura\nF2;C2;2026-10-02;2026-10-12;1.234,56\n"
        try resent.write(toFile: dir + "/tb_faturas_202610.csv", atomically: true, encoding: .utf8)
        #expect(try server.command(args).contains("faturas 2026-10: 1 raw = 1 curated + 0 duplicates + 0 quarantined"))
        let (againStatus, again) = try EsteiraProcess.output(of: root.appendingPathComponent(".venv/bin/python").path, ["-c", query, lake])
        #expect(againStatus == 0 && again.contains("Decimal('1234.56'), 1, datetime.date(2026, 10, 12), 2026, 10"), "\(again)")
        #expect(try String(contentsOfFile: lake + "/quarantine/faturas/ano=2026/mes=10/quarantine.csv", encoding: .utf8)
                == "linha;campo;codigo;motivo;registro\n")
        // The raw layer keeps the file sent first beside the one sent again.
        let received = try rawFaturas()
        #expect(received.count == 3 && received.filter { $0 == Data(faturas.utf8) }.count == 2 && received.contains(Data(resent.utf8)))
    }
}

@Suite("End to end: the registry exported to the lake", .offSharedPool)
struct LakeExportEndToEndTests {
    @Test("esteira lake export: this month's debts and payments into the inbox, debtors pseudonymous; lake run takes them from there")
    func export() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        #expect(try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "X1", "name": "Ana", "document": "248.438.034-80", "amount": "100,00", "due_date": "2025-01-01"}"#).status == 201)
        #expect(try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "X2", "name": "Bia", "document": "529.982.247-25", "amount": "50,00", "due_date": "2025-02-01"}"#).status == 201)
        let today = TestCalendar.day()
        #expect(try await server.post("/v1/debts/X1/payments", key: client.key, json: #"{"amount": "40.00", "date": "\#(today)", "method": "pix"}"#).status == 201)
        server.stop()

        let month = String(today.prefix(7))
        #expect(try server.command(["lake", "export", "--month", month]).contains("exported 2 invoices and 1 payments"))
        let stamp = month.replacingOccurrences(of: "-", with: "")
        let inbox = server.dataDir + "/blobs/lake/inbox"
        let invoices = try String(contentsOfFile: inbox + "/tb_faturas_\(stamp).csv", encoding: .utf8)
        #expect(!invoices.contains("24843803480") && !invoices.contains("248.438.034-80"))
        // The pseudonym by Python's hashlib: SHA-256 of "<client number>:<document>", 16 hex digits.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (_, hash) = try EsteiraProcess.output(of: root.appendingPathComponent(".venv/bin/python").path,
                                                  ["-c", "import hashlib; print(hashlib.sha256(b'1:24843803480').hexdigest()[:16])"])
        let pseudonym = hash.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(pseudonym.count == 16 && invoices.contains("1-X1;\(pseudonym);\(today);2025-01-01;100.00\n"))

        let run = try server.command(["lake", "run", "--month", month])
        #expect(run.contains("faturas \(month): 2 raw = 2 curated + 0 duplicates + 0 quarantined"))
        #expect(run.contains("pagamentos \(month): 1 raw = 1 curated + 0 duplicates + 0 quarantined"))
        let other = month == "2020-01" ? "2020-02" : "2020-01"
        let (status, _) = try EsteiraProcess.output(of: EsteiraProcess.binary, ["lake", "run", "--month", other], environment: server.environmentForCommands)
        #expect(status == 1)
    }
}

@Suite("End to end: the lake inbox, watched by serve", .offSharedPool)
struct LakeInboxEndToEndTests {
    @Test("the previous month's files late: logged, in /metrics, and an alert to the operators' webhook and address; once both arrive, the month runs by itself")
    func inbox() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let hooks = try WebhookReceiver()
        defer { hooks.stop() }
        let smtp = try SMTPReceiver()
        defer { smtp.stop() }
        let op = try server.createOperator()
        // The targets are set while nothing is late (due on day 32: never), so the receiver knows
        // its secret before the first alert; then, due on day 1, the previous month's files are
        // late today, whatever today is.
        let settings = ["ESTEIRA_LAKE_INBOX_SECONDS": "0.2"].merging(smtp.environment) { a, _ in a }
            .merging(EmailEndToEndTests.fastRetries) { a, _ in a }
        try server.start(settings.merging(["ESTEIRA_LAKE_DUE_DAY": "32"]) { a, _ in a })
        func target(_ body: String) async throws -> APIResult {
            try await server.request("POST", "/v1/admin/alert-targets", key: op, body: Data(body.utf8), contentType: "application/json")
        }
        // Operators say where alerts go; a client's event or a bad URL is refused by field.
        let refusedEvent = try await target(#"{"address": "ops@agencia.test", "events": ["batch.completed"]}"#)
        #expect(refusedEvent.status == 422 && refusedEvent.body.contains("invalid_event"))
        let refusedURL = try await target(#"{"url": "ftp://agencia.test/x"}"#)
        #expect(refusedURL.status == 422 && refusedURL.body.contains("invalid_url"))
        let hook = try await target(#"{"url": "\#(hooks.base)/alertas"}"#)
        #expect(hook.status == 201)
        try await hooks.control(secret: try #require(hook.json["secret"]?.string), failFirst: 1)
        #expect(try await target(#"{"address": "operacao@agencia.test", "events": ["lake.files_late"]}"#).status == 201)
        // A target that asks for success by name; the one above, naming nothing, hears only of trouble.
        let success = try await target(#"{"url": "\#(hooks.base)/exito", "events": ["lake.run_completed"]}"#)
        #expect(success.status == 201 && success.json["events"]?.items.compactMap(\.string) == ["lake.run_completed"])
        #expect(hook.json["events"]?.items.compactMap(\.string).contains("lake.run_completed") == false, "\(hook.body)")
        server.stop()
        // And a 100-byte storage budget, which the month's run will pass.
        // The lake has never run here: files are expected from last month on, by the setting.
        let month = TestCalendar.month(plus: -1)
        let stamp = month.replacingOccurrences(of: "-", with: "")
        try server.start(settings.merging(["ESTEIRA_LAKE_DUE_DAY": "1", "ESTEIRA_LAKE_BUDGET_BYTES": "100",
                                           "ESTEIRA_LAKE_EXPECTED_FROM": month]) { a, _ in a })

        var metrics = ""
        for _ in 0..<50 {
            metrics = try await server.request("GET", "/metrics", key: nil).body
            if metrics.contains("esteira_lake_files_late 1") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(metrics.contains("esteira_lake_files_late 1"))
        #expect(server.logs().contains("lake files late") && server.logs().contains("tb_faturas_\(stamp).csv"))
        // The alert, signed, after one 500 from the operators' server; and by e-mail, in Portuguese.
        let delivered = try await hooks.waitFor(2).filter { $0["status"]?.int == 200 }
        let alert = delivered.first?["body"] ?? .null
        #expect(delivered.count == 1 && delivered.first?["signature_ok"]?.bool == true && delivered.first?["event"]?.string == "lake.files_late")
        #expect(alert["month"]?.string == month && alert["missing"]?.items.compactMap(\.string) == ["tb_faturas_\(stamp).csv", "tb_pagamentos_\(stamp).csv"])
        let mail = try await smtp.waitFor(accepted: 1).first ?? .null
        #expect(mail["to"]?.string == "operacao@agencia.test" && mail["subject"]?.string == "Lago: arquivos de \(month) atrasados")
        #expect((mail["text"]?.string ?? "").contains("tb_pagamentos_\(stamp).csv"), "\(mail)")
        // Read until the sender has recorded both answers (CI on 3c5bcee read one still pending).
        let alerts = try await server.items("/v1/admin/alerts", key: op) { $0.count == 2 && $0.allSatisfy { $0["state"]?.string != "pending" } }
        #expect(alerts.count == 2 && alerts.allSatisfy { $0["state"]?.string == "delivered" }, "\(alerts)")

        let inbox = server.dataDir + "/blobs/lake/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        try "id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura\nF1;C1;\(month)-01;\(month)-10;10,00\n"
            .write(toFile: inbox + "/tb_faturas_\(stamp).csv", atomically: true, encoding: .utf8)
        try "id_pagamento;id_fatura;id_cliente;dt_pagamento;vl_pagamento\nP1;F1;C1;\(month)-09;10,00\n"
            .write(toFile: inbox + "/tb_pagamentos_\(stamp).csv", atomically: true, encoding: .utf8)
        var done = false
        for _ in 0..<100 {
            done = (try? server.sql("SELECT status FROM lake_runs WHERE month = '\(month)'")) == "completed"
            if done { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(done)
        #expect(FileManager.default.fileExists(atPath: server.dataDir + "/blobs/lake/curated/faturas/ano=\(stamp.prefix(4))/mes=\(stamp.suffix(2))/part-00000.parquet"))
        try await Task.sleep(for: .milliseconds(400))
        #expect(try server.sql("SELECT COUNT(*) FROM lake_runs") == "1") // queued once
        #expect(try await server.request("GET", "/metrics", key: nil).body.contains("esteira_lake_files_late 0"))
        // The run ended over the budget: the webhook target (all alert events) hears of it; the
        // address, which wants only late files, does not.
        let after = try await hooks.waitFor(4)
        let budget = after.compactMap { $0["body"] }.first { $0["event"]?.string == "lake.over_budget" }
        #expect(budget?["month"]?.string == month && (budget?["bytes"]?.int ?? 0) > 100 && budget?["budget"]?.int == 100, "\(String(describing: budget))")
        #expect(smtp.accepted.count == 1)
        // And the run completed, to the target that asked for it only.
        let completed = after.filter { $0["body", "event"]?.string == "lake.run_completed" }
        #expect(completed.count == 1 && completed.first?["path"]?.string == "/exito", "\(after)")
        #expect(completed.first?["body", "month"]?.string == month)
    }
}

@Suite("End to end: the book against DuckDB SQL written from the definitions", .offSharedPool)
struct LakeBookReferenceTests {
    @Test("14 generated months through esteira lake run; the book as of 17 dates equal to DuckDB's, value by value")
    func book() throws {
        let server = try EsteiraProcess()
        defer { server.removeData() }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv/bin/python").path
        let script = root.appendingPathComponent("scripts/lake-book-reference.py").path
        let input = server.dataDir + "-lake-input"
        defer { try? FileManager.default.removeItem(atPath: input) }
        // 2025-10 … 2026-11: early, on-due, late, partial, split, same-day, overpaid and missing
        // payments; exact and conflicting duplicates and bad rows in every file (the script's doc).
        let (generated, out) = try EsteiraProcess.output(of: python, [script, "generate", input, "--months", "14", "--start", "2025-10"])
        try #require(generated == 0, "\(out)")
        let months: [String] = (0..<14).map { (i: Int) -> String in
            let index = 9 + i // 2025-10 is month index 9 of 2025, counting from 0
            return String(format: "%04d-%02d", 2025 + index / 12, index % 12 + 1)
        }
        for month in months {
            let stamp = month.replacingOccurrences(of: "-", with: "")
            let text = try server.command(["lake", "run", "--month", month, "--faturas", "\(input)/tb_faturas_\(stamp).csv",
                                           "--pagamentos", "\(input)/tb_pagamentos_\(stamp).csv"])
            // Every file has two exact duplicates and five rows out: three bad, two of one id with other content.
            #expect(text.contains("+ 2 duplicates + 5 quarantined"), "\(month): \(text)")
        }
        // The first of each next month (each run's own R, recomputed now that the payments made on
        // R itself have arrived in the next month's file), a month's end whose month before has no
        // such day (U1M from 2026-02-28), a mid-month R with that month's later payments read but
        // not counted, and an R before most of the data.
        let references = months.map { LakeBookReferenceTests.firstOfNext($0) }
            + ["2026-03-31", "2026-06-15", "2025-10-20"]
        for r in references {
            #expect(try server.command(["lake", "book", "--ref-date", r]).contains("customer rows"))
        }
        let (status, report) = try EsteiraProcess.output(of: python, [script, "check", input, server.dataDir + "/blobs/lake"] + references)
        #expect(status == 0, "\(report)")
        #expect(report.components(separatedBy: ": equal,").count - 1 == references.count, "\(report)")
        // The data is not trivial: as of 2026-06-15 the 12-month window has late and delinquent
        // invoices and payments after R were left out (the script prints them).
        let june = report.split(separator: "\n").first { $0.hasPrefix("2026-06-15") } ?? ""
        #expect(june.contains("late/") && !june.contains(" 0 of "), "\(june)")
    }

    static func firstOfNext(_ month: String) -> String {
        let y = Int(month.prefix(4))!, m = Int(month.suffix(2))!
        return m == 12 ? "\(y + 1)-01-01" : String(format: "%04d-%02d-01", y, m + 1)
    }
}

@Suite("End to end: a lake step that fails is retried on its own", .offSharedPool)
struct LakeStepRetryTests {
    /// Reads the run's steps by name from the database.
    static func steps(_ server: EsteiraProcess) throws -> [String: JSONValue] {
        let text = try server.sql("SELECT steps FROM lake_runs ORDER BY started_at DESC LIMIT 1")
        let list = (try? JSONValue.parse(Array(text.utf8)))?.items ?? []
        return Dictionary(list.map { ($0["name"]?.string ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("the book cannot be written: it retries with backoff while raw and curate are not run again, then completes; out of attempts the run fails and its dead job, revived, finishes it")
    func retry() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let dir = server.dataDir + "-files"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "id_fatura;id_cliente;dt_emissao;dt_vencimento;vl_fatura\nF1;C1;2026-10-01;2026-10-10;100,00\n"
            .write(toFile: dir + "/f.csv", atomically: true, encoding: .utf8)
        try "id_pagamento;id_fatura;id_cliente;dt_pagamento;vl_pagamento\nP1;F1;C1;2026-10-09;100,00\n"
            .write(toFile: dir + "/p.csv", atomically: true, encoding: .utf8)
        // A storage fault: a file where the book's partition folder must go, so writing it fails
        // (for root too) until the file is removed.
        let refined = server.dataDir + "/blobs/lake/refined/book_faturas"
        try FileManager.default.createDirectory(atPath: refined, withIntermediateDirectories: true)
        let blocker = refined + "/dt_base=2026-11-01"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("not a folder".utf8)))

        var env = server.environmentForCommands
        env["ESTEIRA_RETRY_BASE_SECONDS"] = "0.4"
        env["ESTEIRA_RETRY_CAP_SECONDS"] = "0.4"
        env["ESTEIRA_JOB_MAX_ATTEMPTS"] = "1000" // about 200 s of attempts: never the end, however slow the machine
        let command = Process()
        command.executableURL = URL(fileURLWithPath: EsteiraProcess.binary)
        command.arguments = ["lake", "run", "--month", "2026-10", "--faturas", dir + "/f.csv", "--pagamentos", dir + "/p.csv"]
        command.environment = env
        // Files, not pipes: the command writes a line per failed attempt, and a pipe nobody reads
        // until the end fills (64 KiB) and blocks it.
        let errorsPath = dir + "/stderr", outputPath = dir + "/stdout"
        #expect(FileManager.default.createFile(atPath: errorsPath, contents: nil))
        #expect(FileManager.default.createFile(atPath: outputPath, contents: nil))
        command.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
        command.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        try command.run()
        var book = JSONValue.null
        for _ in 0..<600 {
            book = try Self.steps(server)["book"] ?? .null
            if (book["attempts"]?.int ?? 0) >= 2 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(book["status"]?.string == "retrying" && (book["attempts"]?.int ?? 0) >= 2, "\(book)")
        try FileManager.default.removeItem(atPath: blocker)
        command.waitUntilExit()
        let said = try String(contentsOfFile: errorsPath, encoding: .utf8)
        let printed = try String(contentsOfFile: outputPath, encoding: .utf8)
        #expect(command.terminationStatus == 0, "\(said)")
        #expect(said.contains("book failed (attempt 1), retrying:"), "\(said)")
        #expect(printed.contains("book 2026-11-01: 1 invoices and 1 payments"), "\(printed)")
        let steps = try Self.steps(server)
        // Only the book was tried again; the steps before it ran once.
        #expect(steps["raw"]?["attempts"]?.int == 1 && steps["curate faturas"]?["attempts"]?.int == 1
                && steps["curate pagamentos"]?["attempts"]?.int == 1)
        #expect(steps["book"]?["status"]?.string == "completed" && (steps["book"]?["attempts"]?.int ?? 0) >= 3)
        #expect(try server.sql("SELECT status FROM lake_runs") == "completed")

        // Out of attempts: the run fails naming the step, the job is dead; revived once the fault
        // is gone, a worker (here serve's) finishes the run.
        try FileManager.default.removeItem(atPath: blocker) // the partition the first run wrote
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("not a folder".utf8)))
        env["ESTEIRA_JOB_MAX_ATTEMPTS"] = "2"
        let args = ["lake", "run", "--month", "2026-10", "--faturas", dir + "/f.csv", "--pagamentos", dir + "/p.csv"]
        let (status, text) = try EsteiraProcess.output(of: "/bin/sh", ["-c", ([EsteiraProcess.binary] + args).map { "'\($0)'" }.joined(separator: " ") + " 2>&1"],
                                                       environment: env)
        #expect(status == 1 && text.contains("book:"), "\(text)")
        #expect(try server.sql("SELECT status FROM lake_runs ORDER BY started_at DESC LIMIT 1") == "failed")
        let dead = try server.sql("SELECT id FROM jobs WHERE kind = 'lake' AND state = 'dead'")
        #expect(!dead.isEmpty && !dead.contains("\n"), "\(dead)")
        try FileManager.default.removeItem(atPath: blocker)
        try server.start()
        #expect(try server.command(["jobs", "retry", dead]).contains(dead))
        var final = ""
        for _ in 0..<100 {
            final = try server.sql("SELECT status FROM lake_runs ORDER BY started_at DESC LIMIT 1")
            if final == "completed" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(final == "completed")
        #expect(FileManager.default.fileExists(atPath: blocker + "/part-00000.parquet"))
    }
}

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// Inclusions (I), corrections (A) and withdrawals (B) in one file, in process, on SQLite and on
/// PostgreSQL: every count, reject, final state, history and slip worked by hand below.
@Suite("API contract, in process: operations in files")
struct FileOperationsContractTests {
    static let cpf = "248.438.034-80"

    @Test("a file of inclusions, corrections and withdrawals, some on one debt, across sub-batches of two rows",
          arguments: InProcessEsteira.dialects)
    func operationsInOneFile(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: client.key, body: body)
            }
            #expect(try await call(.put, "/v1/collection", InProcessEsteira.collectionSettings).status == 200)
            let due = TestCalendar.day(months: -1)
            // Registered before the file: P1 100.00, P2 200.00 with 50.00 paid, P3 300.00.
            for (id, amount) in [("P1", "100,00"), ("P2", "200,00"), ("P3", "300,00")] {
                let r = try await call(.post, "/v1/debts", #"{"external_id": "\#(id)", "name": "Ana", "document": "\#(Self.cpf)", "amount": "\#(amount)", "due_date": "\#(due)"}"#)
                #expect(r.status == 201, "\(r.body)")
            }
            let paid = try await call(.post, "/v1/debts/P2/payments", #"{"amount": "50.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#)
            #expect(paid.status == 201, "\(paid.body)")

            // The test client's sub-batches hold two rows each: lines 2–3, 4–5, ... 18–19.
            let c = Self.cpf
            let rows = [
                "I;N1;Ana;\(c);10,00;\(due);",             // 2  registered
                "B;N1;;;;;enviado_por_engano",              // 3  withdrawn: the inclusion just before it, same sub-batch
                "A;P1;Ana Maria;\(c);120,00;\(due);",       // 4  updated: amount 100.00 → 120.00, name
                "A;P1;Ana Maria;\(c);120,00;\(due);",       // 5  duplicate: the same correction again
                "A;P2;Ana;\(c);40,00;\(due);",              // 6  R017: 50.00 already paid
                "A;P3;Ana;111.444.777-35;300,00;\(due);",   // 7  R016: another (valid) CPF
                "B;P3;;;;;Óbito",                           // 8  withdrawn (the reason's word in any case, with accents)
                "b;P3;;;;;obito",                           // 9  duplicate: withdrawn already
                "A;P3;Ana;\(c);310,00;\(due);",             // 10 R021: withdrawn
                "B;NAO;;;;;obito",                          // 11 R020: never registered
                "X;N2;Ana;\(c);10,00;\(due);",              // 12 R018
                "B;N3;;;;;cansei",                          // 13 R019
                "A;NAO2;Ana;\(c);10,00;\(due);",            // 14 R020
                "I;N4;Bia;\(c);20,00;\(due);",              // 15 registered
                "B;N4;;;;;acordo_direto",                   // 16 withdrawn: included by the sub-batch before
                ";N5;Caio;\(c);30,00;\(due);",              // 17 registered: no operation is an inclusion
                "A;N5;Caio;\(c);35,00;\(due);",             // 18 updated: 30.00 → 35.00, sub-batch after its inclusion
                "I;N1;Ana;\(c);10,00;\(due);",              // 19 duplicate: withdrawn stays withdrawn
            ]
            let file = "operacao;external_id;nome;cpf;valor;vencimento;motivo_baixa\n" + rows.joined(separator: "\n") + "\n"
            let id = try await api.upload(Array(file.utf8), key: client.key, name: "operacoes.csv")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch["status"]?.string == "completed_with_rejects", "\(batch)")
            // 18 rows = 3 registered (N1, N4, N5) + 2 updated (4, 18) + 3 withdrawn (3, 8, 16)
            //         + 3 duplicates (5, 9, 19) + 7 rejected (6, 7, 10, 11, 12, 13, 14).
            #expect(batch.counts == ["received": 18, "registered": 3, "updated": 2, "withdrawn": 3, "duplicates": 3, "rejected": 7, "review": 0],
                    "\(batch)")
            let rejects = (try await call(.get, "/v1/batches/\(id)/rejects?per_page=100").json["items"]?.items ?? []).map {
                "\($0["line"]?.int ?? 0):\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")"
            }
            #expect(rejects == ["6:amount:R017", "7:document:R016", "10:operation:R021", "11:external_id:R020", "12:operation:R018",
                                "13:withdrawal_reason:R019", "14:external_id:R020"])

            func debt(_ id: String) async throws -> JSONValue { try await call(.get, "/v1/debts/\(id)").json }
            #expect(try await debt("N1")["status"]?.string == "withdrawn")
            #expect(try await debt("N4")["status"]?.string == "withdrawn")
            #expect(try await debt("P3")["status"]?.string == "withdrawn")
            let p1 = try await debt("P1")
            #expect(p1["status"]?.string == "registered" && p1["amount"]?.string == "120.00" && p1["name"]?.string == "Ana Maria", "\(p1)")
            let p2 = try await debt("P2")
            #expect(p2["status"]?.string == "partially_paid" && p2["amount"]?.string == "200.00", "\(p2)")
            let n5 = try await debt("N5")
            #expect(n5["status"]?.string == "registered" && n5["amount"]?.string == "35.00", "\(n5)")
            for absent in ["N2", "N3", "NAO", "NAO2"] { #expect(try await call(.get, "/v1/debts/\(absent)").status == 404) }

            // Slips: P1's replaced by one for the corrected 120.00; N5's for 35.00; the withdrawn
            // debts' cancelled, and none open.
            let p1Slip = try await call(.get, "/v1/debts/P1/bankslip").json
            #expect(p1Slip["amount"]?.string == "120.00", "\(p1Slip)")
            #expect(try await call(.get, "/v1/debts/N5/bankslip").json["amount"]?.string == "35.00")
            for id in ["N1", "N4", "P3"] {
                #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM bankslips WHERE external_id = '\(id)' AND status = 'open'") == "0")
                #expect(try await call(.get, "/v1/debts/\(id)/bankslip").json["error", "code"]?.string == "debt_closed")
            }

            // Histories, with the batch's line as each change's actor.
            func history(_ id: String) async throws -> [String] {
                (try await call(.get, "/v1/debts/\(id)/history").json["items"]?.items ?? []).map {
                    "\($0["kind"]?.string ?? ""):\($0["actor", "kind"]?.string ?? ""):\($0["actor", "line"]?.int ?? 0)"
                }
            }
            #expect(try await history("N1") == ["registered:batch:2", "slip_issued:esteira:0", "withdrawn:batch:3", "slip_cancelled:batch:3"])
            #expect(try await history("N4") == ["registered:batch:15", "slip_issued:esteira:0", "withdrawn:batch:16", "slip_cancelled:batch:16"])
            #expect(try await history("P1") == ["registered:batch:1", "slip_issued:esteira:0", "corrected:batch:4", "slip_cancelled:batch:4",
                                                 "slip_issued:esteira:0"])
            let corrected = (try await call(.get, "/v1/debts/P1/history").json["items"]?.items ?? [])[2]
            #expect(corrected["actor", "id"]?.string == id)
            #expect(corrected["details", "changes", "amount"]?.strings == ["before": "100.00", "after": "120.00"], "\(corrected)")
            #expect(corrected["details", "changes", "name"]?.strings == ["before": "Ana", "after": "Ana Maria"], "\(corrected)")
            let withdrawn = (try await call(.get, "/v1/debts/P3/history").json["items"]?.items ?? []).first { $0["kind"]?.string == "withdrawn" }
            #expect(withdrawn?["details", "reason"]?.string == "obito" && withdrawn?["actor", "line"]?.int == 8)
        }
    }

    @Test("a positional file carries the operation and the reason in its own columns", arguments: InProcessEsteira.dialects)
    func operationsInFixedWidth(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let format = """
                {"fixed_width": [{"field": "operation", "start": 1, "length": 1}, {"field": "external_id", "start": 2, "length": 10},
                                 {"field": "name", "start": 12, "length": 30}, {"field": "document", "start": 42, "length": 14},
                                 {"field": "amount", "start": 56, "length": 13}, {"field": "due_date", "start": 69, "length": 8},
                                 {"field": "withdrawal_reason", "start": 77, "length": 20}],
                 "date_format": "ddmmyyyy", "decimal_format": "implied_cents"}
                """
            #expect(try await api.request(.put, "/v1/formats/posicional", key: client.key, body: format).status == 201)
            func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
            let due = TestCalendar.brazilianDay(months: -1).replacingOccurrences(of: "/", with: "")
            let lines = [
                "I" + pad("T-1", 10) + pad("Ana", 30) + pad("24843803480", 14) + "0000000001000" + due,   // 10,00 registered
                "I" + pad("T-2", 10) + pad("Bia", 30) + pad("24843803480", 14) + "0000000002000" + due,   // 20,00 registered
                "A" + pad("T-1", 10) + pad("Ana", 30) + pad("24843803480", 14) + "0000000001500" + due,   // 15,00 updated
                "B" + pad("T-2", 10) + String(repeating: " ", count: 65) + pad("decisao_judicial", 20),   // withdrawn
            ]
            let upload = try await api.request(.post, "/v1/batches?file_name=MOV.TXT&format=posicional", key: client.key,
                                               bytes: Array((lines.joined(separator: "\r\n") + "\r\n").utf8), contentType: "text/plain")
            let batch = try await api.finishedBatch(try #require(upload.json["id"]?.string), key: client.key)
            #expect(batch.counts == ["received": 4, "registered": 2, "updated": 1, "withdrawn": 1, "duplicates": 0, "rejected": 0, "review": 0],
                    "\(batch)")
            #expect(try await api.get("/v1/debts/T-1", key: client.key).json["amount"]?.string == "15.00")
            #expect(try await api.get("/v1/debts/T-2", key: client.key).json["status"]?.string == "withdrawn")
        }
    }

    @Test("submissions carry the operation too; a single debt or a correction by the API refuses the column",
          arguments: InProcessEsteira.dialects)
    func operationsInSubmissions(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            let debt = #"{"external_id": "S1", "name": "Ana", "document": "\#(Self.cpf)", "amount": "10,00", "due_date": "\#(due)"}"#
            #expect(try await api.post("/v1/debts", key: client.key, json: debt).status == 201)
            let id = try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string)
            let items = [
                #"{"operacao": "A", "external_id": "S1", "name": "Ana", "document": "\#(Self.cpf)", "amount": "12,00", "due_date": "\#(due)"}"#,
                #"{"operation": "B", "external_id": "S1", "motivo_baixa": "pago_ao_credor"}"#,
            ]
            #expect(try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: "[" + items.joined(separator: ",") + "]").status == 200)
            let submitted = try await api.request(.post, "/v1/submissions/\(id)/submit", key: client.key)
            #expect(submitted.status == 202, "\(submitted.body)")
            let batch = try await api.finishedBatch(try #require(submitted.json["id"]?.string), key: client.key)
            #expect(batch.counts["updated"] == 1 && batch.counts["withdrawn"] == 1 && batch.counts["received"] == 2, "\(batch)")
            let s1 = try await api.get("/v1/debts/S1", key: client.key).json
            #expect(s1["status"]?.string == "withdrawn" && s1["amount"]?.string == "12.00", "\(s1)")

            let single = try await api.post("/v1/debts", key: client.key, json: #"{"operation": "B", "external_id": "S2", "withdrawal_reason": "obito"}"#)
            #expect(single.status == 400 && single.json["error", "code"]?.string == "unknown_field", "\(single.body)")
            let patch = try await api.request(.patch, "/v1/debts/S1", key: client.key, body: #"{"operacao": "A"}"#)
            #expect(patch.status == 400 && patch.json["error", "code"]?.string == "unknown_field", "\(patch.body)")
        }
    }
}

/// The preview of a file (`?dry_run=true`), in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: a file's preview")
struct PreviewContractTests {
    @Test("a dry run says what each row would do and writes nothing; confirmed, it does just that", arguments: InProcessEsteira.dialects)
    func dryRun(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: client.key, body: body)
            }
            let due = TestCalendar.day(months: -1), c = FileOperationsContractTests.cpf
            for id in ["P1", "P2"] {
                #expect(try await call(.post, "/v1/debts", #"{"external_id": "\#(id)", "name": "Ana", "document": "\#(c)", "amount": "100,00", "due_date": "\#(due)"}"#).status == 201)
            }
            #expect(try await call(.post, "/v1/debts/P2/withdrawal", #"{"reason": "obito"}"#).status == 200)
            let rows = [
                "I;N1;Ana;\(c);10,00;\(due);",             // 2  new
                "B;N1;;;;;obito",                           // 3  withdrawn: the inclusion before it
                "A;P1;Ana;\(c);120,00;\(due);",             // 4  corrected
                "A;P1;Ana;\(c);120,00;\(due);",             // 5  unchanged
                "I;P1;Ana;\(c);100,00;\(due);",             // 6  conflict: P1 now reads 120,00
                "B;P2;;;;;obito",                           // 7  unchanged: withdrawn already
                "A;P2;Ana;\(c);90,00;\(due);",              // 8  R021
                "B;NAO;;;;;obito",                          // 9  R020
                "X;N3;Ana;\(c);10,00;\(due);",              // 10 R018
                "I;N2;Ana;248.438.034-81;10,00;\(due);",    // 11 R003
            ]
            let file = "operacao;external_id;nome;cpf;valor;vencimento;motivo_baixa\n" + rows.joined(separator: "\n") + "\n"
            let upload = try await api.request(.post, "/v1/batches?dry_run=true&file_name=previa.csv", key: client.key,
                                               bytes: Array(file.utf8), contentType: "text/csv")
            #expect(upload.status == 202 && upload.json["dry_run"]?.bool == true, "\(upload.body)")
            let id = try #require(upload.json["id"]?.string)
            var preview = APIResult(status: 0, headers: [:], body: "")
            for _ in 0..<200 {
                preview = try await call(.get, "/v1/batches/\(id)/preview")
                if preview.status == 200 { break }
                #expect(preview.status == 409 && preview.json["error", "code"]?.string == "no_preview", "\(preview.body)")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(preview.status == 200, "\(preview.body)")
            #expect(preview.json["batch", "status"]?.string == "previewed")
            // 10 rows = 1 new + 1 corrected + 1 withdrawn + 2 unchanged + 1 conflict + 4 rejected.
            #expect(preview.json["preview"]?.counts == ["received": 10, "new": 1, "corrected": 1, "withdrawn": 1, "unchanged": 2,
                                                                  "conflicts": 1, "rejected": 4], "\(preview.body)")
            let lines = preview.json["preview", "lines"]
            for (effect, expected) in [("new", [2]), ("withdrawn", [3]), ("corrected", [4]), ("unchanged", [5, 7]), ("conflict", [6]),
                                       ("rejected", [8, 9, 10, 11])] {
                #expect(lines?[effect]?.items.compactMap(\.int) == expected, "\(effect): \(preview.body)")
            }
            #expect((preview.json["preview", "rejects"]?.items ?? []).map { "\($0["line"]?.int ?? 0):\($0["code"]?.string ?? "")" }
                    == ["6:R009", "8:R021", "9:R020", "10:R018", "11:R003"], "\(preview.body)")
            // Nothing written.
            #expect(try await call(.get, "/v1/debts/N1").status == 404)
            #expect(try await call(.get, "/v1/debts/P1").json["amount"]?.string == "100.00")
            #expect(try await call(.get, "/v1/batches/\(id)/rejects").json["total"]?.int == 0)

            // Confirmed: the batch does what the preview said.
            let confirmed = try await call(.post, "/v1/batches/\(id)/confirm")
            #expect(confirmed.status == 202 && confirmed.json["status"]?.string == "processing", "\(confirmed.body)")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch.counts == ["received": 10, "registered": 1, "updated": 1, "withdrawn": 1, "duplicates": 2, "rejected": 5, "review": 0],
                    "\(batch)")
            #expect(try await call(.get, "/v1/debts/N1").json["status"]?.string == "withdrawn")
            #expect(try await call(.get, "/v1/debts/P1").json["amount"]?.string == "120.00")
            let again = try await call(.post, "/v1/batches/\(id)/confirm")
            #expect(again.status == 409 && again.json["error", "code"]?.string == "not_previewed", "\(again.body)")
            // A batch sent without dry_run has no preview.
            let plain = try await api.upload(Array(file.utf8), key: client.key, name: "direto.csv")
            _ = try await api.finishedBatch(plain, key: client.key)
            #expect(try await call(.get, "/v1/batches/\(plain)/preview").json["error", "code"]?.string == "no_preview")
            #expect(try await call(.post, "/v1/batches?dry_run=talvez", "x").json["error", "code"]?.string == "invalid_parameter")
        }
    }
}

/// Files that are a client's whole open portfolio, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: full-portfolio files")
struct FullPortfolioContractTests {
    @Test("the open debts a full file leaves out are listed, then withdrawn when the client asks; a failed file is no empty portfolio",
          arguments: InProcessEsteira.dialects)
    func missing(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            func call(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> APIResult {
                try await api.request(method, path, key: client.key, body: body)
            }
            let due = TestCalendar.day(months: -1), c = FileOperationsContractTests.cpf
            for id in ["K1", "K2", "K3", "K4", "K5"] {
                #expect(try await call(.post, "/v1/debts", #"{"external_id": "\#(id)", "name": "Ana", "document": "\#(c)", "amount": "10,00", "due_date": "\#(due)"}"#).status == 201)
            }
            // K4 paid in full and K5 withdrawn: closed, never missing.
            #expect(try await call(.post, "/v1/debts/K4/payments", #"{"amount": "10.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
            #expect(try await call(.post, "/v1/debts/K5/withdrawal", #"{"reason": "obito"}"#).status == 200)
            // K1 as registered, K2 on a row rejected for its amount (it still names K2), N1 new: K3 is missing.
            let file = "external_id;nome;cpf;valor;vencimento\n"
                + "K1;Ana;\(c);10,00;\(due)\nK2;Ana;\(c);dez;\(due)\nN1;Ana;\(c);5,00;\(due)\n"
            func full(_ name: String, _ body: String = file, query: String = "portfolio=full") async throws -> (String, JSONValue) {
                let r = try await api.request(.post, "/v1/batches?\(query)&file_name=\(name)", key: client.key, bytes: Array(body.utf8), contentType: "text/csv")
                #expect(r.status == 202, "\(r.body)")
                let id = try #require(r.json["id"]?.string)
                return (id, try await api.finishedBatch(id, key: client.key))
            }
            let (first, batch) = try await full("carteira1.csv")
            #expect(batch["full_portfolio"]?.bool == true && batch.counts["registered"] == 1 && batch.counts["rejected"] == 1, "\(batch)")
            let listed = try await call(.get, "/v1/batches/\(first)/missing")
            #expect(listed.json["items"]?.items.map { "\($0["external_id"]?.string ?? ""):\($0["status_before"]?.string ?? ""):\($0["withdrawn"]?.bool ?? true)" }
                    == ["K3:registered:false"], "\(listed.body)")
            #expect(try await call(.get, "/v1/debts/K3").json["status"]?.string == "registered")
            let csv = try await call(.get, "/v1/batches/\(first)/missing.csv")
            #expect(csv.body == "\u{FEFF}external_id;situacao_anterior;baixada\r\n\"K3\";registrada;não\r\n", "\(csv.body)")

            // Asked to withdraw them: the next full file withdraws K3, with its reason and the batch as actor.
            #expect(try await call(.put, "/v1/portfolio", #"{"withdraw_missing": true}"#).json["withdraw_missing"]?.bool == true)
            let (second, _) = try await full("carteira2.csv")
            #expect(try await call(.get, "/v1/batches/\(second)/missing").json["items"]?.items.map { $0["withdrawn"]?.bool } == [true])
            #expect(try await call(.get, "/v1/debts/K3").json["status"]?.string == "withdrawn")
            let event = (try await call(.get, "/v1/debts/K3/history").json["items"]?.items ?? []).first { $0["kind"]?.string == "withdrawn" }
            #expect(event?["details", "reason"]?.string == "ausente_da_carteira" && event?["actor", "id"]?.string == second, "\(String(describing: event))")

            // A full file that fails (a header and no rows, F003) withdraws nothing and lists nothing.
            let (failed, failedBatch) = try await full("vazia.csv", "external_id;nome;cpf;valor;vencimento\n")
            #expect(failedBatch["status"]?.string == "failed" && failedBatch["error_code"]?.string == "F003", "\(failedBatch)")
            #expect(try await call(.get, "/v1/batches/\(failed)/missing").json["error", "code"]?.string == "not_full_portfolio")
            for id in ["K1", "K2", "N1"] { #expect(try await call(.get, "/v1/debts/\(id)").json["status"]?.string == "registered") }

            // A format may say its files are the whole portfolio; a file sent without it is partial.
            #expect(try await call(.put, "/v1/formats/completa", #"{"columns": {"external_id": "external_id", "name": "nome", "document": "cpf", "amount": "valor", "due_date": "vencimento"}, "portfolio": "full"}"#).json["portfolio"]?.string == "full")
            let (_, byFormat) = try await full("carteira3.csv", query: "format=completa")
            #expect(byFormat["full_portfolio"]?.bool == true, "\(byFormat)")
            let (partial, _) = try await full("parcial.csv", query: "portfolio=partial")
            #expect(try await call(.get, "/v1/batches/\(partial)/missing").json["error", "code"]?.string == "not_full_portfolio")
        }
    }
}

/// A file's corrections and withdrawals applied by slices (`DebtOperations`) against the same
/// operations through the API one at a time, in process, on SQLite and on PostgreSQL: the same
/// debts, histories and slips after either.
@Suite("API contract, in process: a file's operations by slices and the API's one by one")
struct OperationsEquivalenceTests {
    @Test("the same operations by file and by API leave the same debts, histories and slips", arguments: InProcessEsteira.dialects)
    func sameOutcome(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (byAPI, byFile) = try await InProcessEsteira.twoClients(runtime)
            let due = TestCalendar.day(months: -1), c = FileOperationsContractTests.cpf
            for key in [byAPI.key, byFile.key] {
                #expect(try await api.request(.put, "/v1/collection", key: key, body: InProcessEsteira.collectionSettings).status == 200)
                for id in ["D1", "D2", "D3", "D4", "D5", "D6"] {
                    let r = try await api.post("/v1/debts", key: key, json: #"{"external_id": "\#(id)", "name": "Ana", "document": "\#(c)", "amount": "100,00", "due_date": "\#(due)"}"#)
                    #expect(r.status == 201, "\(r.body)")
                }
                for (id, amount) in [("D3", "50.00"), ("D4", "100.00")] {
                    #expect(try await api.post("/v1/debts/\(id)/payments", key: key, json: #"{"amount": "\#(amount)", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
                }
            }
            // D1 120,00 and an e-mail; D2 a new name only; D3 80,00 with 50,00 paid (30,00 open);
            // D4 paid in full, now 150,00 (50,00 open again); D5 withdrawn; D6 another document (R016).
            let corrections: [(String, String, String, String?)] = [
                ("D1", "Ana", "120,00", "ana@exemplo.com.br"), ("D2", "Ana Maria", "100,00", nil), ("D3", "Ana", "80,00", nil),
                ("D4", "Ana", "150,00", nil),
            ]
            for (id, name, amount, email) in corrections {
                let body = #"{"name": "\#(name)", "document": "\#(c)", "amount": "\#(amount)", "due_date": "\#(due)""#
                    + (email.map { #", "email": "\#($0)""# } ?? "") + "}"
                #expect(try await api.request(.patch, "/v1/debts/\(id)", key: byAPI.key, body: body).status == 200)
            }
            #expect(try await api.post("/v1/debts/D5/withdrawal", key: byAPI.key, json: #"{"reason": "obito"}"#).status == 200)
            #expect(try await api.request(.patch, "/v1/debts/D6", key: byAPI.key, body: #"{"document": "111.444.777-35"}"#).status == 422)

            // The same as one file, each debt's row alone in its sub-batch of two.
            let rows = corrections.map { "A;\($0.0);\($0.1);\(c);\($0.2);\(due);\($0.3 ?? "");" }
                + ["B;D5;;;;;;obito", "A;D6;Ana;111.444.777-35;100,00;\(due);;"]
            let file = "operacao;external_id;nome;cpf;valor;vencimento;email;motivo_baixa\n" + rows.joined(separator: "\n") + "\n"
            let batch = try await api.finishedBatch(try await api.upload(Array(file.utf8), key: byFile.key, name: "ops.csv"), key: byFile.key)
            #expect(batch.counts == ["received": 6, "registered": 0, "updated": 4, "withdrawn": 1, "duplicates": 0, "rejected": 1, "review": 0],
                    "\(batch)")

            func state(_ key: String, _ clientID: String) async throws -> [String] {
                var out: [String] = []
                for id in ["D1", "D2", "D3", "D4", "D5", "D6"] {
                    let d = try await api.get("/v1/debts/\(id)", key: key).json
                    out.append("\(id) \(d["status"]?.string ?? "") \(d["amount"]?.string ?? "") \(d["paid"]?.string ?? "") \(d["name"]?.string ?? "") \(d["email"]?.string ?? "-")")
                    for e in try await api.get("/v1/debts/\(id)/history", key: key).json["items"]?.items ?? [] where e["actor", "kind"]?.string != "esteira" {
                        // The events a change made, without who made it (a key, or the batch's line).
                        var details = e["details"] ?? .null
                        if case .object(let members) = details { details = .object(members.filter { $0.key != "payment_id" && $0.key != "our_number" }) }
                        out.append("  \(e["kind"]?.string ?? "") \(details)")
                    }
                }
                out.append(try await InProcessEsteira.sql(runtime, """
                    SELECT b.external_id, b.amount_cents, b.status FROM bankslips b JOIN clients c ON c.num = b.client_num
                    WHERE c.id = '\(clientID)' ORDER BY b.external_id, b.our_number
                    """))
                return out
            }
            let viaAPI = try await state(byAPI.key, byAPI.id), viaFile = try await state(byFile.key, byFile.id)
            #expect(viaAPI.count == viaFile.count, "\(viaAPI)\n\(viaFile)")
            for (a, b) in zip(viaAPI, viaFile) where a != b { Issue.record("by API: \(a)\nby file: \(b)") }
            // And what that is, by hand for two of them: D3 80,00 with 50,00 paid; D4 open again for 50,00.
            #expect(viaFile.contains("D3 partially_paid 80.00 50.00 Ana -") && viaFile.contains("D4 partially_paid 150.00 100.00 Ana -"), "\(viaFile)")
        }
    }
}

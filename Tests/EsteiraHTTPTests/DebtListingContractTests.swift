import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
import Testing

/// Reading the portfolio: `GET /v1/debts` filtered, and `GET /v1/debts.csv`, in process, on SQLite
/// and on PostgreSQL.
@Suite("API contract, in process: the portfolio listed and exported")
struct DebtListingContractTests {
    @Test("filters by status, batch, due and registration days, and changes since a moment; each bad filter a 400 naming it",
          arguments: InProcessEsteira.dialects)
    func filters(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            func ids(_ query: String, key: String? = nil) async throws -> [String] {
                let r = try await api.get("/v1/debts?per_page=100&" + query, key: key ?? client.key)
                #expect(r.status == 200, "\(query): \(r.body)")
                return (r.json["items"]?.items ?? []).compactMap { $0["external_id"]?.string }
            }
            let cpf = "248.438.034-80"
            // A file of three debts due one, two and three months ago; two single debts.
            let file = "external_id;nome;cpf;valor;vencimento\n"
                + "F1;Ana;\(cpf);10,00;\(TestCalendar.day(months: -1))\n"
                + "F2;Ana;\(cpf);20,00;\(TestCalendar.day(months: -2))\n"
                + "F3;Ana;\(cpf);30,00;\(TestCalendar.day(months: -3))\n"
            let batch = try await api.upload(Array(file.utf8), key: client.key, name: "carteira.csv")
            #expect(try await api.finishedBatch(batch, key: client.key).counts["registered"] == 3)
            for (id, due) in [("S1", TestCalendar.day(days: -5)), ("S2", TestCalendar.day(years: -6))] {
                let r = try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "\#(id)", "name": "Bia", "document": "111.444.777-35", "amount": "5,00", "due_date": "\#(due)"}"#)
                #expect(r.status == 201, "\(r.body)")
            }
            #expect(try await api.post("/v1/debts", key: other.key, json: #"{"external_id": "O1", "name": "Caio", "document": "\#(cpf)", "amount": "5,00", "due_date": "\#(TestCalendar.day(days: -5))"}"#).status == 201)

            // A moment after every registration; then F2 withdrawn and S1 paid in part.
            try await Task.sleep(for: .milliseconds(20))
            let since = Timestamp.iso(Date())
            try await Task.sleep(for: .milliseconds(20))
            #expect(try await api.post("/v1/debts/F2/withdrawal", key: client.key, json: #"{"reason": "obito"}"#).status == 200)
            #expect(try await api.post("/v1/debts/S1/payments", key: client.key, json: #"{"amount": "2.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)

            #expect(try await ids("") == ["F1", "F2", "F3", "S1", "S2"])
            #expect(try await ids("status=withdrawn") == ["F2"])
            #expect(try await ids("status=partially_paid") == ["S1"])
            // Due six years ago: flagged for review by the risk rules (K007).
            #expect(try await ids("status=review") == ["S2"])
            #expect(try await ids("review=true") == ["S2"])
            #expect(try await ids("batch=\(batch)") == ["F1", "F2", "F3"])
            // Due from three months ago to one month ago, both ends included: F1, F2, F3; from two: F1, F2.
            #expect(try await ids("due_from=\(TestCalendar.day(months: -3))&due_to=\(TestCalendar.day(months: -1))") == ["F1", "F2", "F3"])
            #expect(try await ids("due_from=\(TestCalendar.day(months: -2))&due_to=\(TestCalendar.day(months: -1))") == ["F1", "F2"])
            #expect(try await ids("registered_from=\(TestCalendar.day())&registered_to=\(TestCalendar.day())").count == 5)
            #expect(try await ids("registered_to=\(TestCalendar.day(days: -1))") == [])
            #expect(try await ids("registered_from=\(TestCalendar.day(days: 1))") == [])
            #expect(try await ids("updated_since=\(since)") == ["F2", "S1"])
            #expect(try await ids("updated_since=\(since)&status=withdrawn") == ["F2"])
            #expect(try await ids("document=111.444.777-35") == ["S1", "S2"])
            #expect(try await ids("", key: other.key) == ["O1"])
            let s1 = try await api.get("/v1/debts/S1", key: client.key).json
            #expect(s1["paid"]?.string == "2.00" && s1["paid_cents"]?.int == 200, "\(s1)")

            for (query, parameter) in [("status=pago", "status"), ("due_from=01/02/2026", "due_from"), ("registered_to=ontem", "registered_to"),
                                       ("updated_since=agora", "updated_since"), ("review=sim", "review"), ("status=paid&review=true", "review")] {
                for path in ["/v1/debts?", "/v1/debts.csv?"] {
                    let r = try await api.get(path + query, key: client.key)
                    #expect(r.status == 400 && r.json["error", "code"]?.string == "invalid_parameter"
                            && (r.json["error", "message"]?.string ?? "").contains(parameter), "\(path)\(query): \(r.body)")
                }
            }
        }
    }

    @Test("the export: the filtered portfolio as a spreadsheet-safe CSV whose header reads back as a file", arguments: InProcessEsteira.dialects)
    func export(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            let due = TestCalendar.day(months: -1)
            let debts = [
                #"{"external_id": "E1", "name": "=HIPERLINK(\"x\")", "document": "012.345.678-90", "amount": "1.234,56", "due_date": "\#(due)", "email": "ana@exemplo.com.br"}"#,
                #"{"external_id": "E2", "name": "Loja; \"Filial\"", "document": "12.ABC.345/01DE-35", "amount": "7,00", "due_date": "\#(due)", "phone": "+55 11 99999-0000"}"#,
            ]
            let plain = #"{"external_id": "E3", "name": "Caio", "document": "111.444.777-35", "amount": "3,00", "due_date": "\#(due)"}"#
            for body in debts + [plain] { #expect(try await api.post("/v1/debts", key: client.key, json: body).status == 201) }
            #expect(try await api.post("/v1/debts/E2/payments", key: client.key, json: #"{"amount": "2.50", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)
            #expect(try await api.post("/v1/debts", key: other.key, json: #"{"external_id": "X1", "name": "Outro", "document": "012.345.678-90", "amount": "1,00", "due_date": "\#(due)"}"#).status == 201)

            let r = try await api.get("/v1/debts.csv", key: client.key)
            #expect(r.status == 200 && r.headers[.contentType] == "text/csv; charset=utf-8")
            #expect((r.headers[.contentDisposition] ?? "").contains("carteira.csv"))
            #expect(r.body.hasPrefix("\u{FEFF}external_id;nome;cpf_cnpj;valor;pago;em_aberto;vencimento;situacao;"))
            let lines = r.body.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 4, "\(r.body)")
            // By hand: the name that starts with `=` gets a quote before it, so no spreadsheet runs
            // it; the document keeps its leading zero, punctuated; 1.234,56 with nothing paid;
            // 7,00 with 2,50 paid leaves 4,50; the other client's X1 is not there.
            let brazilianDue = TestCalendar.brazilianDay(months: -1)
            let e1 = lines[1].components(separatedBy: ";")
            #expect(Array(e1.prefix(11)) == ["\"E1\"", "\"'=HIPERLINK(\"\"x\"\")\"", "012.345.678-90", "1234,56", "0,00", "1234,56", brazilianDue,
                                             "registrada", "\"ana@exemplo.com.br\"", "\"\"", "\"\""], "\(lines[1])")
            #expect(lines[2].hasPrefix("\"E2\";\"Loja; \"\"Filial\"\"\";12.ABC.345/01DE-35;7,00;2,50;4,50;\(brazilianDue);paga em parte;\"\";\"'+55 11 99999-0000\";"),
                    "\(lines[2])")
            #expect(e1.last?.hasPrefix(TestCalendar.brazilianDay()) == true, "\(lines[1])")
            // The moment of registration in São Paulo's time, as Foundation's own formatter writes
            // the API's UTC moment there.
            let registered = try await api.get("/v1/debts/E1", key: client.key).json["created_at"]?.string ?? ""
            let local = DateFormatter()
            local.locale = Locale(identifier: "en_US_POSIX")
            local.timeZone = TimeZone(identifier: "America/Sao_Paulo")
            local.dateFormat = "dd/MM/yyyy HH:mm:ss"
            let parsed = try Date(registered, strategy: .iso8601)
            #expect(e1.last == local.string(from: parsed), "\(registered) \(lines[1])")

            // Filtered like the listing.
            let paid = try await api.get("/v1/debts.csv?status=partially_paid", key: client.key)
            #expect(paid.body.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2, "\(paid.body)")

            // The export's header is the standard format's: the file reads back, a duplicate of what is
            // registered. (A cell a spreadsheet would run keeps the quote put before it.)
            let caio = try await api.get("/v1/debts.csv?document=11144477735", key: client.key)
            let again = try await api.upload(Array(caio.body.utf8), key: client.key, name: "carteira.csv")
            let batch = try await api.finishedBatch(again, key: client.key)
            #expect(batch.counts["received"] == 1 && batch.counts["duplicates"] == 1, "\(batch)")
        }
    }
}

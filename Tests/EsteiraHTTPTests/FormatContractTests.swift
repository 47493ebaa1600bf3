import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// Spreadsheets, fixed-width files and saved formats, in process, on SQLite and on PostgreSQL. The
/// workbooks are the fixtures of EsteiraSheetsTests, written by openpyxl and msoffcrypto-tool (see
/// make_fixtures.py there).
@Suite("API contract, in process: saved formats, XLSX and fixed-width files")
struct FormatContractTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return Array(try Data(contentsOf: here.deletingLastPathComponent().appendingPathComponent("EsteiraSheetsTests/Fixtures/\(name)")))
    }

    static func put(_ api: APITestClient, _ key: String, _ name: String, _ json: String) async throws -> APIResult {
        try await api.request(.put, "/v1/formats/\(name)", key: key, body: json)
    }

    static func rejects(_ api: APITestClient, _ id: String, key: String) async throws -> [String] {
        (try await api.get("/v1/batches/\(id)/rejects", key: key).json["items"]?.items ?? []).map {
            "\($0["line"]?.int ?? 0):\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")"
        }
    }

    static let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    @Test("an XLSX whose columns have other names, read with a saved mapping: exact counts, amounts and the sheet's row numbers",
          arguments: InProcessEsteira.dialects)
    func mappedSpreadsheet(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Planilhas Ltda")
            // A mapping that leaves out a required field is refused with what is missing.
            let incomplete = try await Self.put(api, client.key, "planilha", #"{"columns": {"external_id": "Código"}}"#)
            #expect(incomplete.status == 422)
            #expect((incomplete.json["error", "message"]?.string ?? "").contains("Escolha a coluna do campo CPF/CNPJ."), "\(incomplete.body)")
            let mapping = #"{"columns": {"external_id": "Código", "name": "Cliente", "document": "CPF do devedor", "amount": "Valor Original", "due_date": "Vencimento", "email": "E-mail"}, "date_format": "auto", "decimal_format": "auto"}"#
            #expect(try await Self.put(api, client.key, "planilha", mapping).status == 201)
            #expect(try await Self.put(api, client.key, "planilha", mapping).status == 200)
            #expect(try await api.request(.post, "/v1/batches?format=outro", key: client.key, body: "x", contentType: "text/csv").status == 422)

            let upload = try await api.request(.post, "/v1/batches?file_name=dividas.xlsx&format=planilha", key: client.key,
                                               bytes: try Self.fixture("mapped.xlsx"), contentType: Self.xlsx)
            #expect(upload.status == 202)
            let id = try #require(upload.json["id"]?.string)
            let batch = try await api.finishedBatch(id, key: client.key)
            // Rows 2, 3, 4, 6 and 7 hold debts; row 4's 1.234 has three decimals (R004).
            #expect(batch["status"]?.string == "completed_with_rejects")
            // A-4 (due 2020-02-29) and A-5 (1999-12-31) are more than five years old: flagged K007; A-1
            // and A-2 too once they are (the workbook's dates are fixed; the day the test runs is not).
            #expect(batch.counts == ["received": 5, "registered": 4, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1,
                                     "review": TestCalendar.timeBarred(["2024-03-15", "2023-12-31", "2020-02-29", "1999-12-31"])])
            #expect(try await Self.rejects(api, id, key: client.key) == ["4:amount:R004"])
            // 1234.56 typed as a number; 0.1 + 0.2 typed as a number is 30 cents; "1.234,56" typed as
            // text is 123,456 cents; 150 is 15,000 cents.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT external_id, amount_cents, due_date FROM debts ORDER BY external_id") == """
                A-1|123456|2024-03-15
                A-2|30|2023-12-31
                A-4|123456|2020-02-29
                A-5|15000|1999-12-31
                """)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT name FROM debts WHERE external_id = 'A-2'") == "Maria \"Mia\"; Souza Filha")
        }
    }

    @Test("the client's default format applies when the upload names none; bad workbooks fail with a Portuguese reason",
          arguments: InProcessEsteira.dialects)
    func defaultFormatAndBadWorkbooks(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Planilhas Ltda")
            // Without a format, the sheet's headers are not the standard names.
            let unmapped = try await api.upload(try Self.fixture("mapped.xlsx"), key: client.key, name: "a.xlsx")
            let failed = try await api.finishedBatch(unmapped, key: client.key)
            #expect(failed["status"]?.string == "failed")
            #expect(failed["error_code"]?.string == "F004")

            // Brazilian formats as the default: the number 1234.56 is written 1234,56 for the comma
            // format, and the text 1.234,56 reads the same; 1.234 is 1,234 and still three decimals.
            let mapping = #"{"columns": {"external_id": "Código", "name": "Cliente", "document": "CPF do devedor", "amount": "Valor Original", "due_date": "Vencimento"}, "date_format": "auto", "decimal_format": "comma", "default": true}"#
            #expect(try await Self.put(api, client.key, "padrao", mapping).status == 201)
            let mapped = try await api.upload(try Self.fixture("mapped.xlsx"), key: client.key, name: "b.xlsx")
            let done = try await api.finishedBatch(mapped, key: client.key)
            #expect(done.counts == ["received": 5, "registered": 4, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1,
                                    "review": TestCalendar.timeBarred(["2024-03-15", "2023-12-31", "2020-02-29", "1999-12-31"])])
            #expect(try await InProcessEsteira.sql(runtime, "SELECT format_name FROM batches WHERE id = '\(mapped)'") == "padrao")

            for (file, code) in [("encrypted.xlsx", "F011"), ("truncated.xlsx", "F010"), ("empty.xlsx", "F012"), ("bomb.xlsx", "F013")] {
                let id = try await api.upload(try Self.fixture(file), key: client.key, name: file)
                let b = try await api.finishedBatch(id, key: client.key)
                #expect(b["status"]?.string == "failed", "\(file)")
                #expect(b["error_code"]?.string == code, "\(file)")
                #expect((b["error"]?.string ?? "").contains("planilha"), "\(file)")
            }
            // Nothing of the failed files reached the registry, and the server still answers.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts") == "4")
            #expect(try await api.get("/v1/formats", key: client.key).status == 200)
        }
    }

    @Test("a positional (CNAB-shaped) TXT: header and trailer skipped, Windows-1252, implied cents, DDMMAAAA, a quote as data; rejects on the file's lines",
          arguments: InProcessEsteira.dialects)
    func cnabShaped(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Banco Posicional")
            let format = """
                {"fixed_width": [{"field": "external_id", "start": 2, "length": 10}, {"field": "name", "start": 12, "length": 30},
                                 {"field": "document", "start": 42, "length": 14}, {"field": "amount", "start": 56, "length": 13},
                                 {"field": "due_date", "start": 69, "length": 8}],
                 "skip_first_lines": 1, "skip_last_lines": 1, "date_format": "ddmmyyyy", "decimal_format": "implied_cents"}
                """
            #expect(try await Self.put(api, client.key, "cnab", format).status == 201)
            func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: n, withPad: " ", startingAt: 0) }
            let lines = [
                "0" + pad("CARTEIRA JANEIRO", 75),                                                         // line 1: header
                "1" + pad("T-1", 10) + pad("João Conceição", 30) + pad("52998224725", 14) + "0000000123456" + "15032024",
                "1" + pad("T-2", 10) + pad("Ana \"Aspas Silva", 30) + "11222333000181" + "0000000000099" + "31022024",
                "1" + pad("T-3", 10) + pad("Caio", 30) + pad("11144477735", 14) + "0000000010000" + "01012024",
                "9" + pad("000003", 75),                                                                   // line 5: trailer
            ]
            // Windows-1252, as Foundation encodes it: ã and ç are one byte each.
            let file = try #require((lines.joined(separator: "\r\n") + "\r\n").data(using: .windowsCP1252))
            let upload = try await api.request(.post, "/v1/batches?file_name=COB0101.TXT&format=cnab", key: client.key,
                                               bytes: Array(file), contentType: "text/plain")
            #expect(upload.status == 202)
            let id = try #require(upload.json["id"]?.string)
            let batch = try await api.finishedBatch(id, key: client.key)
            // T-1 and T-3 register; T-2's 31 February does not exist (R006, line 3).
            #expect(batch.counts == ["received": 3, "registered": 2, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1,
                                     "review": TestCalendar.timeBarred(["2024-03-15", "2024-01-01"])])
            #expect(try await Self.rejects(api, id, key: client.key) == ["3:due_date:R006"])
            // 0000000123456 is R$ 1.234,56; 0000000010000 is R$ 100,00.
            #expect(try await InProcessEsteira.sql(runtime, "SELECT external_id, name, amount_cents, due_date FROM debts ORDER BY external_id") == """
                T-1|João Conceição|123456|2024-03-15
                T-3|Caio|10000|2024-01-01
                """)
        }
    }
}

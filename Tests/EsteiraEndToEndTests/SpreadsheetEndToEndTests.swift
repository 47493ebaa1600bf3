import EsteiraTestSupport
import Foundation
import Testing

/// Spreadsheets and saved formats through the real binary. The workbooks are the fixtures of
/// EsteiraSheetsTests, written by openpyxl and msoffcrypto-tool (see make_fixtures.py there).
@Suite("End to end: XLSX uploads read with a saved format", .offSharedPool)
struct SpreadsheetEndToEndTests {
    static func fixture(_ name: String) throws -> Data {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return try Data(contentsOf: here.deletingLastPathComponent().appendingPathComponent("EsteiraSheetsTests/Fixtures/\(name)"))
    }

    func put(_ server: EsteiraProcess, _ key: String, _ name: String, _ json: String) async throws -> EsteiraProcess.HTTPResult {
        try await server.request("PUT", "/v1/formats/\(name)", key: key, body: Data(json.utf8), contentType: "application/json")
    }

    @Test("an XLSX whose columns have other names, read with a saved mapping: exact counts, amounts and the sheet's row numbers")
    func mappedSpreadsheet() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Planilhas Ltda", document: "11.222.333/0001-81")
        try server.start()

        // A mapping that leaves out a required field is refused with what is missing.
        let incomplete = try await put(server, client.key, "planilha", #"{"columns": {"external_id": "Código"}}"#)
        #expect(incomplete.status == 422)
        let message = (incomplete.object["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("Escolha a coluna do campo CPF/CNPJ."))
        let mapping = #"{"columns": {"external_id": "Código", "name": "Cliente", "document": "CPF do devedor", "amount": "Valor Original", "due_date": "Vencimento", "email": "E-mail"}, "date_format": "auto", "decimal_format": "auto"}"#
        #expect(try await put(server, client.key, "planilha", mapping).status == 201)
        #expect(try await put(server, client.key, "planilha", mapping).status == 200)
        #expect(try await server.request("POST", "/v1/batches?format=outro", key: client.key, body: Data("x".utf8)).status == 422)

        let upload = try await server.request("POST", "/v1/batches?file_name=dividas.xlsx&format=planilha", key: client.key,
                                              body: try Self.fixture("mapped.xlsx"),
                                              contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        #expect(upload.status == 202)
        let id = try #require(upload.object["id"] as? String)
        let batch = try await server.waitForBatch(id, key: client.key)
        // Rows 2, 3, 4, 6 and 7 hold debts; row 4's 1.234 has three decimals (R004).
        #expect(batch["status"] as? String == "completed_with_rejects")
        // A-4 (due 2020-02-29) and A-5 (1999-12-31) are more than five years old: flagged K007; A-1
        // and A-2 too once they are (the workbook's dates are fixed; the day the test runs is not).
        #expect(batch.counts() == ["received": 5, "registered": 4, "duplicates": 0, "rejected": 1,
                                   "review": TestCalendar.timeBarred(["2024-03-15", "2023-12-31", "2020-02-29", "1999-12-31"])])
        let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects", key: client.key).object
        let got = (rejects["items"] as? [[String: Any]] ?? []).map { "\($0["line"]!):\($0["field"]!):\($0["code"]!)" }
        #expect(got == ["4:amount:R004"])
        // 1234.56 typed as a number; 0.1 + 0.2 typed as a number is 30 cents; "1.234,56" typed as
        // text is 123,456 cents; 150 is 15,000 cents.
        #expect(try server.sql("SELECT external_id, amount_cents, due_date FROM debts ORDER BY external_id") == """
            A-1|123456|2024-03-15
            A-2|30|2023-12-31
            A-4|123456|2020-02-29
            A-5|15000|1999-12-31
            """)
        #expect(try server.sql("SELECT name FROM debts WHERE external_id = 'A-2'") == "Maria \"Mia\"; Souza Filha")
    }

    @Test("the client's default format applies when the upload names none; bad workbooks fail with a Portuguese reason")
    func defaultFormatAndBadWorkbooks() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Planilhas Ltda", document: "11.222.333/0001-81")
        try server.start()

        // Without a format, the sheet's headers are not the standard names.
        let unmapped = try await server.upload(try Self.fixture("mapped.xlsx"), key: client.key, name: "a.xlsx")
        let failed = try await server.waitForBatch(unmapped, key: client.key)
        #expect(failed["status"] as? String == "failed")
        #expect(failed["error_code"] as? String == "F004")

        // Brazilian formats as the default: the number 1234.56 is written 1234,56 for the comma
        // format, and the text 1.234,56 reads the same; 1.234 is 1,234 and still three decimals.
        let mapping = #"{"columns": {"external_id": "Código", "name": "Cliente", "document": "CPF do devedor", "amount": "Valor Original", "due_date": "Vencimento"}, "date_format": "auto", "decimal_format": "comma", "default": true}"#
        #expect(try await put(server, client.key, "padrao", mapping).status == 201)
        let mapped = try await server.upload(try Self.fixture("mapped.xlsx"), key: client.key, name: "b.xlsx")
        let done = try await server.waitForBatch(mapped, key: client.key)
        #expect(done.counts() == ["received": 5, "registered": 4, "duplicates": 0, "rejected": 1,
                                  "review": TestCalendar.timeBarred(["2024-03-15", "2023-12-31", "2020-02-29", "1999-12-31"])])
        #expect(try server.sql("SELECT format_name FROM batches WHERE id = '\(mapped)'") == "padrao")

        for (file, code) in [("encrypted.xlsx", "F011"), ("truncated.xlsx", "F010"), ("empty.xlsx", "F012"), ("bomb.xlsx", "F013")] {
            let id = try await server.upload(try Self.fixture(file), key: client.key, name: file)
            let b = try await server.waitForBatch(id, key: client.key)
            #expect(b["status"] as? String == "failed", "\(file)")
            #expect(b["error_code"] as? String == code, "\(file)")
            #expect((b["error"] as? String ?? "").contains("planilha"), "\(file)")
        }
        // Nothing of the failed files reached the registry, and the server still answers.
        #expect(try server.sql("SELECT COUNT(*) FROM debts") == "4")
        #expect(try await server.request("GET", "/v1/formats", key: client.key).status == 200)
    }
}

@Suite("End to end: a positional (CNAB-shaped) TXT read with a fixed-width format", .offSharedPool)
struct FixedWidthEndToEndTests {
    @Test("header and trailer skipped, Windows-1252, implied cents, DDMMAAAA, a quote as data; rejects on the file's lines")
    func cnabShaped() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Banco Posicional", document: "11.222.333/0001-81")
        try server.start()
        let format = """
            {"fixed_width": [{"field": "external_id", "start": 2, "length": 10}, {"field": "name", "start": 12, "length": 30},
                             {"field": "document", "start": 42, "length": 14}, {"field": "amount", "start": 56, "length": 13},
                             {"field": "due_date", "start": 69, "length": 8}],
             "skip_first_lines": 1, "skip_last_lines": 1, "date_format": "ddmmyyyy", "decimal_format": "implied_cents"}
            """
        let saved = try await server.request("PUT", "/v1/formats/cnab", key: client.key, body: Data(format.utf8),
                                             contentType: "application/json")
        #expect(saved.status == 201)
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
        let upload = try await server.request("POST", "/v1/batches?file_name=COB0101.TXT&format=cnab", key: client.key,
                                              body: file, contentType: "text/plain")
        #expect(upload.status == 202)
        let id = try #require(upload.object["id"] as? String)
        let batch = try await server.waitForBatch(id, key: client.key)
        // T-1 and T-3 register; T-2's 31 February does not exist (R006, line 3).
        #expect(batch.counts() == ["received": 3, "registered": 2, "duplicates": 0, "rejected": 1,
                                   "review": TestCalendar.timeBarred(["2024-03-15", "2024-01-01"])])
        let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects", key: client.key).object
        #expect((rejects["items"] as? [[String: Any]] ?? []).map { "\($0["line"]!):\($0["field"]!):\($0["code"]!)" } == ["3:due_date:R006"])
        // 0000000123456 is R$ 1.234,56; 0000000010000 is R$ 100,00.
        #expect(try server.sql("SELECT external_id, name, amount_cents, due_date FROM debts ORDER BY external_id") == """
            T-1|João Conceição|123456|2024-03-15
            T-3|Caio|10000|2024-01-01
            """)
    }
}

@Suite("End to end: an XLS (Excel 97-2003) file", .offSharedPool)
struct LegacySpreadsheetEndToEndTests {
    static let hasLibreOffice = ["/usr/bin/soffice", "/usr/bin/libreoffice"].contains { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("converted by LibreOffice where it is installed, else refused with F014 saying to save it as XLSX or CSV")
    func xls() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Legado", document: "11.222.333/0001-81")
        try server.start()
        // legacy.xls is written by xlwt (see make_fixtures.py): L-1 is valid; L-2's CPF ends in 26,
        // not 25, so its check digits fail (R003, row 3).
        let id = try await server.upload(try SpreadsheetEndToEndTests.fixture("legacy.xls"), key: client.key, name: "antigo.xls")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 300)
        if Self.hasLibreOffice {
            #expect(batch.counts() == ["received": 2, "registered": 1, "duplicates": 0, "rejected": 1, "review": 0])
            #expect(try server.sql("SELECT external_id, name, amount_cents, due_date FROM debts") == "L-1|Luísa|8765|2024-05-20")
            let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects", key: client.key).object
            #expect((rejects["items"] as? [[String: Any]] ?? []).map { "\($0["line"]!):\($0["code"]!)" } == ["3:R003"])
        } else {
            #expect(batch["error_code"] as? String == "F014")
            #expect((batch["error"] as? String ?? "").contains("LibreOffice"))
        }
    }
}

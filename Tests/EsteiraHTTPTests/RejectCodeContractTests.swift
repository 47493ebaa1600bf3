import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// Every code of docs/rejects.md, through the API in process, on SQLite and on PostgreSQL: the row
/// codes on the line and field the table gives, the file codes as the batch's `error_code`.
/// (F010–F013 are in FormatContractTests; F014 needs LibreOffice, in the real-binary suite.)
@Suite("API contract, in process: every documented reject and file code")
struct RejectCodeContractTests {
    @Test("row codes R001–R015, each on its line and field", arguments: InProcessEsteira.dialects)
    func rowCodes(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            let later = TestCalendar.day(days: 30)
            let cpf = "248.438.034-80"
            // One row per code; the header is line 1. Names carry accents, so that the one byte
            // 0xFF of line 16 is a stray in a UTF-8 file (R015) and not a sign of Windows-1252.
            var file = Array("external_id;nome;cpf_cnpj;valor;vencimento;email\n".utf8)
            let rows: [(String, String)] = [
                ("X01;;\(cpf);10,00;\(due);", "2:name:R001"),
                ("X02;Ângela;123;10,00;\(due);", "3:document:R002"),
                ("X03;Ângela;248.438.034-81;10,00;\(due);", "4:document:R003"),
                ("X04;Ângela;\(cpf);abc;\(due);", "5:amount:R004"),
                ("X05;Ângela;\(cpf);0,00;\(due);", "6:amount:R005"),
                ("X06;Ângela;\(cpf);10,00;30/02/2024;", "7:due_date:R006"),
                ("X07;Ângela;\(cpf);10,00;\(later);", "8:due_date:R007"),
                ("X08;Ângela;\(cpf);10,00;\(due);pedro@", "9:email:R008"),
                ("X09;Conceição;\(cpf);10,00;\(due);", ""),
                ("X09;Conceição;\(cpf);11,00;\(due);", "11:external_id:R009"),
                ("X10;Ângela", "12::R010"),
                ("X11;\(String(repeating: "á", count: 201));\(cpf);10,00;\(due);", "13:name:R011"),
                ("X13;Ângela;\(cpf);1.234;\(due);", "14:amount:R013"),
                ("X14;Ân\u{1}gela;\(cpf);10,00;\(due);", "15:name:R014"),
            ]
            for (row, _) in rows { file += Array((row + "\n").utf8) }
            file += Array("X15;Zé".utf8) + [0xFF] + Array(";\(cpf);10,00;\(due);\n".utf8)
            // A quote opened and never closed: the last row, for it runs to the end of the file.
            file += Array("X12;\"João;\(cpf);10,00;\(due);\n".utf8)
            let id = try await api.upload(file, key: client.key, name: "codigos.csv")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch["status"]?.string == "completed_with_rejects", "\(batch)")
            let got = (try await api.get("/v1/batches/\(id)/rejects?per_page=100", key: client.key).json["items"]?.items ?? []).map {
                "\($0["line"]?.int ?? 0):\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")"
            }
            #expect(got == rows.map(\.1).filter { !$0.isEmpty } + ["16:name:R015", "17::R012"])
            // X09 registered once; every other row rejected.
            #expect(batch.counts["registered"] == 1 && batch.counts["rejected"] == 15, "\(batch)")
        }
    }

    @Test("file codes F001–F007: the batch fails with the code and a Portuguese reason", arguments: InProcessEsteira.dialects)
    func fileCodes(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let due = TestCalendar.day(months: -1)
            let row = "D1;Ana;248.438.034-80;10,00;\(due)\n"
            let swallowed = "external_id;nome;cpf_cnpj;valor;vencimento\nD1;\"" + String(repeating: "a", count: 1_100_000) + "\n"
            let files: [(String, [UInt8], String)] = [
                ("vazio.csv", [], "F001"),
                ("relatorio.csv", Array("%PDF-1.4\n%âãÏÓ\n1 0 obj\n".utf8), "F002"),
                ("so-cabecalho.csv", Array("external_id;nome;cpf_cnpj;valor;vencimento\n".utf8), "F003"),
                ("sem-valor.csv", Array("external_id;nome;cpf_cnpj;vencimento\nD1;Ana;248.438.034-80;\(due)\n".utf8), "F004"),
                ("cpf-e-cnpj.csv", Array("external_id;nome;cpf;cnpj;valor;vencimento\nD1;Ana;248.438.034-80;;10,00;\(due)\n".utf8), "F005"),
                ("aspas.csv", Array(swallowed.utf8), "F006"),
            ]
            for (name, bytes, code) in files {
                let id = try await api.upload(bytes, key: client.key, name: name)
                let batch = try await api.finishedBatch(id, key: client.key)
                #expect(batch["status"]?.string == "failed" && batch["error_code"]?.string == code, "\(name): \(batch)")
                #expect((batch["error"]?.string ?? "").isEmpty == false, "\(name): \(batch)")
            }
            // A saved format that names a column the file does not have.
            let format = #"{"columns": {"external_id": "Código", "name": "nome", "document": "cpf_cnpj", "amount": "valor", "due_date": "vencimento"}}"#
            #expect(try await api.request(.put, "/v1/formats/codigo", key: client.key, body: format).status == 201)
            let upload = try await api.request(.post, "/v1/batches?format=codigo&file_name=f.csv", key: client.key,
                                               body: "external_id;nome;cpf_cnpj;valor;vencimento\n" + row, contentType: "text/csv")
            let id = try #require(upload.json["id"]?.string, "\(upload.body)")
            let batch = try await api.finishedBatch(id, key: client.key)
            #expect(batch["error_code"]?.string == "F007" && (batch["error"]?.string ?? "").contains("Código"), "\(batch)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts") == "0")
        }
    }
}

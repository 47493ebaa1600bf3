import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import HTTPTypes
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

    /// docs/rejects.md's table of API errors: code → status.
    static func documentedAPIErrors() throws -> [String: Int] {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: here.appendingPathComponent("docs/rejects.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## API errors").last)
        var table: [String: Int] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if cells.count >= 2, let status = Int(cells[1]) { table[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = status }
        }
        return table
    }

    @Test("every API error code of docs/rejects.md: its status and the JSON error, from a request that makes it", arguments: InProcessEsteira.dialects)
    func apiErrors(dialect: SQLDialect) async throws {
        let documented = try Self.documentedAPIErrors()
        #expect(documented.count >= 30, "\(documented)")
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let op = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin).apiKey
            let viewer = try await OperatorStore(db: runtime.db).create(name: "Vera", role: .viewer).apiKey
            let due = TestCalendar.day(months: -1)
            let debt = #"{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#
            #expect(try await api.post("/v1/debts", key: client.key, json: debt).status == 201)
            #expect(try await api.post("/v1/debts", key: client.key, json: debt.replacingOccurrences(of: "E1", with: "W9")).status == 201)
            #expect(try await api.post("/v1/debts/W9/withdrawal", key: client.key, json: #"{"reason": "obito"}"#).status == 200)
            func open() async throws -> String { try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string) }
            let submitted = try await open()
            #expect(try await api.post("/v1/submissions/\(submitted)/debts", key: client.key, json: "[" + debt + "]").status == 200)
            #expect(try await api.request(.post, "/v1/submissions/\(submitted)/submit", key: client.key).status == 202)
            let boundary = "limite"
            let part = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\nexternal_id;nome\n"
            let entry = #"{"branch": "0001", "account": "1-2", "amount": "1.00", "side": "C", "event_code": "NAO_EXISTE", "description": "x", "trace_key": "\#(UUID().uuidString.lowercased())", "reference_date": "\#(TestCalendar.day())"}"#
            let settings = #"{"bank": "001", "agency": "2949", "account": "6580", "wallet": "6", "pix_key": "11222333000181", "beneficiary_name": "Loja", "beneficiary_city": "São Paulo", "due_days": 10}"#

            // Another client, which collects through Esteira, with a debt paid in full.
            let payer = try await InProcessEsteira.client(runtime, name: "Outra", document: "11444777000161")
            #expect(try await api.request(.put, "/v1/collection", key: payer.key, body: settings.replacingOccurrences(of: #""001""#, with: #""237""#)).status == 200)
            #expect(try await api.post("/v1/debts", key: payer.key, json: debt.replacingOccurrences(of: "E1", with: "P9")).status == 201)
            #expect(try await api.post("/v1/debts/P9/payments", key: payer.key, json: #"{"amount": "10.00", "date": "\#(TestCalendar.day())", "method": "pix"}"#).status == 201)

            // A batch sent without dry_run, and one sent with it and confirmed.
            let file = Array("external_id;nome;cpf;valor;vencimento\nB1;Ana;248.438.034-80;10,00;\(due)\n".utf8)
            let direct = try await api.upload(file, key: client.key, name: "direto.csv")
            let previewed = try #require(try await api.request(.post, "/v1/batches?dry_run=true", key: client.key, bytes: file,
                                                               contentType: "text/csv").json["id"]?.string)
            for _ in 0..<200 where try await api.request(.post, "/v1/batches/\(previewed)/confirm", key: client.key).status != 202 {
                try await Task.sleep(for: .milliseconds(50))
            }

            // A key rotated with no overlap (expired at once), and a deactivated client.
            let keysListed = try await api.get("/v1/keys", key: client.key).json["items"]?.elements ?? []
            let principal = try #require(keysListed.first?["id"]?.string)
            let spare = try #require(try await api.post("/v1/keys", key: client.key, json: #"{"name": "reserva"}"#).json["api_key"]?.string)
            let spareID = try #require(try await api.get("/v1/keys", key: client.key).json["items"]?.elements?.first { $0["name"]?.string == "reserva" }?["id"]?.string)
            #expect(try await api.post("/v1/keys", key: client.key, json: #"{"name": "sucessora", "rotate": "\#(spareID)", "overlap_hours": 0}"#).status == 201)
            let gone = try await InProcessEsteira.client(runtime, name: "Encerrada", document: "11444777000161")
            #expect(try await ClientStore(db: runtime.db).deactivate(id: gone.id, by: .cli(user: "test")))

            let requests: [String: () async throws -> APIResult] = [
                "key_expired": { try await api.get("/v1/batches", key: spare) },
                "invalid_quota": { try await api.request(.put, "/v1/admin/clients/\(client.id)/quotas", key: op, body: #"{"rows_per_day": 0}"#) },
                "invalid_name": { try await api.post("/v1/keys", key: client.key, json: #"{"name": ""}"#) },
                "invalid_expiry": { try await api.post("/v1/keys", key: client.key, json: #"{"name": "x", "expires_in_days": 0}"#) },
                "invalid_overlap": { try await api.post("/v1/keys", key: client.key, json: #"{"name": "x", "overlap_hours": 2}"#) },
                "invalid_rotate": { try await api.post("/v1/keys", key: client.key, json: #"{"name": "x", "rotate": "k_nenhuma"}"#) },
                "deactivated": { try await api.post("/v1/admin/clients/\(gone.id)/keys", key: op, json: #"{"name": "x"}"#) },
                "unauthorized": { try await api.get("/v1/batches") },
                "forbidden": { try await api.request(.delete, "/v1/admin/blacklist/52998224725", key: viewer) },
                "not_found": { try await api.get("/v1/nada", key: client.key) },
                "invalid_json": { try await api.post("/v1/debts", key: client.key, json: "nome;cpf") },
                "unknown_field": { try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "S3", "valr": "10"}"#) },
                "duplicate_field": { try await api.post("/v1/debts", key: client.key, json: #"{"external_id": "S3", "debtId": "S4"}"#) },
                "invalid_parameter": { try await api.get("/v1/batches?per_page=0", key: client.key) },
                "invalid_multipart": { try await api.request(.post, "/v1/batches", key: client.key, body: "x", contentType: "multipart/form-data") },
                "missing_file": {
                    try await api.request(.post, "/v1/batches", key: client.key, body: "--\(boundary)\r\nContent-Disposition: form-data; name=\"nota\"\r\n\r\nx\r\n--\(boundary)--\r\n",
                                          contentType: "multipart/form-data; boundary=\(boundary)")
                },
                "truncated_multipart": {
                    try await api.request(.post, "/v1/batches", key: client.key, body: part, contentType: "multipart/form-data; boundary=\(boundary)")
                },
                "too_large": { try await api.request(.post, "/v1/debts", key: client.key, bytes: [UInt8](repeating: 0x20, count: 70_000)) },
                "too_many": {
                    try await api.post("/v1/submissions/\(try await open())/debts", key: client.key, json: "[" + Array(repeating: debt, count: 10_001).joined(separator: ",") + "]")
                },
                "unknown_format": { try await api.request(.post, "/v1/batches?format=outro", key: client.key, body: "x", contentType: "text/csv") },
                "invalid_format": { try await api.request(.put, "/v1/formats/x", key: client.key, body: #"{"columns": {"external_id": "Código"}}"#) },
                "invalid_settings": { try await api.request(.put, "/v1/collection", key: client.key, body: settings) },
                "no_collection_settings": { try await api.get("/v1/debts/E1/bankslip", key: client.key) },
                "invalid_url": { try await api.post("/v1/webhooks", key: client.key, json: #"{"url": "ftp://x"}"#) },
                "invalid_email": { try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "financeiro@"}"#) },
                "invalid_event": { try await api.post("/v1/email-recipients", key: client.key, json: #"{"address": "a@loja.com.br", "events": ["x"]}"#) },
                "invalid_items": { try await api.post("/v1/submissions/\(try await open())/debts", key: client.key, json: #"["texto"]"#) },
                "empty": { try await api.request(.post, "/v1/submissions/\(try await open())/submit", key: client.key) },
                "already_submitted": { try await api.request(.post, "/v1/submissions/\(submitted)/submit", key: client.key) },
                "invalid_entries": { try await api.post("/v1/ledger/entries", key: client.key, json: #"{"entries": []}"#) },
                "ledger_rejected": { try await api.post("/v1/ledger/entries", key: client.key, json: entry) },
                "invalid_event_code": { try await api.request(.put, "/v1/admin/ledger/events/ABC!", key: op, body: #"{"description": "x", "active": true, "allows_debit": true, "allows_credit": true}"#) },
                "invalid_description": { try await api.request(.put, "/v1/admin/ledger/events/ABC", key: op, body: #"{"description": "", "active": true, "allows_debit": true, "allows_credit": true}"#) },
                "invalid_document": { try await api.request(.put, "/v1/admin/blacklist/52998224726", key: op, body: #"{"reason": "x"}"#) },
                "reason_required": { try await api.request(.put, "/v1/admin/blacklist/52998224725", key: op, body: "{}") },
                // E1 (of 248.438.034-80) is open.
                "erasure_refused": { try await api.post("/v1/admin/privacy/erasure", key: op, json: #"{"document": "24843803480"}"#) },
                "invalid_lines": {
                    try await api.request(.post, "/v1/admin/blacklist/import", key: op, body: "documento;motivo\n111.444.777-36;x\n", contentType: "text/csv")
                },
                "invalid_limits": {
                    try await api.request(.put, "/v1/admin/clients/\(client.id)/limits", key: op, body: #"{"max_amount": "10,00", "min_amount": "20,00"}"#)
                },
                "invalid_reason": { try await api.post("/v1/debts/E1/withdrawal", key: client.key, json: #"{"reason": "cansei"}"#) },
                "invalid_note": {
                    try await api.post("/v1/debts/E1/withdrawal", key: client.key, json: #"{"reason": "obito", "note": "\#(String(repeating: "x", count: 501))"}"#)
                },
                "invalid_decisions": { try await api.post("/v1/admin/reviews", key: op, json: #"{"decisions": []}"#) },
                "debt_paid": { try await api.get("/v1/debts/P9/bankslip", key: payer.key) },
                "debt_closed": { try await api.get("/v1/debts/W9/bankslip", key: client.key) },
                "not_full_portfolio": { try await api.get("/v1/batches/\(direct)/missing", key: client.key) },
                "no_preview": { try await api.get("/v1/batches/\(direct)/preview", key: client.key) },
                "not_previewed": { try await api.request(.post, "/v1/batches/\(previewed)/confirm", key: client.key) },
            ]
            // Made elsewhere: `invalid_body` needs a socket (HostileInputEndToEndTests), `expired`
            // a submission's time to pass (SubmissionContractTests.expiry), `too_many_failures`
            // an address locked out, which would refuse every request after it here
            // (KeysContractTests.wrongKeysThrottled).
            // `rate_limited` and `quota_exceeded` a client's limits used up (QuotasContractTests).
            let elsewhere: Set<String> = ["invalid_body", "expired", "too_many_failures", "rate_limited", "quota_exceeded"]
            _ = principal
            #expect(Set(requests.keys).union(elsewhere) == Set(documented.keys), "documented but not requested, or the reverse")
            for (code, request) in requests.sorted(by: { $0.key < $1.key }) {
                let r = try await request()
                #expect(r.status == documented[code] && r.json["error", "code"]?.string == code, "\(code): \(r.status) \(r.body.prefix(300))")
                #expect((r.json["error", "message"]?.string ?? "").isEmpty == false, "\(code): \(r.body.prefix(300))")
                #expect(r.header("Content-Type")?.hasPrefix("application/json") == true, "\(code)")
            }
        }
    }
}

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The HTTP contract, in process, on SQLite and on PostgreSQL: statuses, JSON shapes, auth and
/// isolation, paging and documented error codes (README's API table, docs/rejects.md).
@Suite("API contract, in process")
struct APIContractTests {
    @Test("no key, or a key that is no client's, is 401 with the JSON error `unauthorized`", arguments: InProcessEsteira.dialects)
    func unauthorized(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, _ in
            for key in [nil, "est_nao_existe"] {
                let r = try await api.get("/v1/batches", key: key)
                #expect(r.status == 401)
                #expect(r.json["error", "code"]?.string == "unauthorized", "\(r.body)")
                #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            }
        }
    }

    /// Hummingbird's router answers a method a path does not take as a path it does not have.
    @Test("an unknown path, or a method the path does not take, is 404 `not_found` in JSON", arguments: InProcessEsteira.dialects)
    func unknownRoutes(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (_, key) = try await InProcessEsteira.client(runtime)
            let missing = try await api.get("/nada", key: key)
            #expect(missing.status == 404 && missing.json["error", "code"]?.string == "not_found", "\(missing.body)")
            let wrong = try await api.request(.delete, "/v1/batches", key: key)
            #expect(wrong.status == 404 && wrong.json["error", "code"]?.string == "not_found", "\(wrong.status) \(wrong.body)")
        }
    }

    /// 3 rows on sub-batches of 2: D1 valid; D2's CPF has wrong check digits (248.438.034-80 is
    /// valid, so -81 is not: R003); D3 has no amount.
    @Test("upload: 202 with Location; the batch ends with its counts; rejects are paged; another client sees none of it",
          arguments: InProcessEsteira.dialects)
    func uploadAndIsolation(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (a, b) = try await InProcessEsteira.twoClients(runtime)
            let due = TestCalendar.day(days: -30)
            let file = "id_divida;nome;cpf;valor;vencimento\nD1;Ana;248.438.034-80;10,00;\(due)\nD2;Bia;248.438.034-81;20,00;\(due)\nD3;Caio;529.982.247-25;;\(due)\n"
            let upload = try await api.request(.post, "/v1/batches?file_name=d.csv", key: a.key, body: file, contentType: "text/csv")
            #expect(upload.status == 202, "\(upload.body)")
            let id = try #require(upload.json["id"]?.string)
            #expect(upload.header("Location") == "/v1/batches/\(id)")
            // Every batch has the same keys: what is absent is null, not missing.
            #expect(upload.json["error"] == .null && upload.json["error_code"] == .null && upload.json["finished_at"] == .null, "\(upload.body)")

            var batch = upload
            let deadline = Date().addingTimeInterval(60)
            while !["completed", "completed_with_rejects", "failed"].contains(batch.json["status"]?.string ?? ""), Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                batch = try await api.get("/v1/batches/\(id)", key: a.key)
            }
            #expect(batch.json["status"]?.string == "completed_with_rejects", "\(batch.body)")
            #expect(batch.json["counts", "received"]?.int == 3 && batch.json["counts", "registered"]?.int == 1
                    && batch.json["counts", "rejected"]?.int == 2, "\(batch.body)")

            // Page 2 of 1 per page: the second reject, line 4 (the header is line 1).
            let page = try await api.get("/v1/batches/\(id)/rejects?per_page=1&page=2", key: a.key)
            #expect(page.status == 200)
            #expect(page.json["total"]?.int == 2 && page.json["page"]?.int == 2 && page.json["per_page"]?.int == 1, "\(page.body)")
            #expect(page.json["items"]?.elements?.count == 1 && page.json["items"]?.elements?.first?["line"]?.int == 4, "\(page.body)")
            let first = try await api.get("/v1/batches/\(id)/rejects?per_page=1", key: a.key)
            #expect(first.json["items"]?.elements?.first?["code"]?.string == "R003", "\(first.body)")

            // B: A's batch, its rejects and its debt do not exist.
            for path in ["/v1/batches/\(id)", "/v1/batches/\(id)/rejects", "/v1/debts/D1"] {
                let r = try await api.get(path, key: b.key)
                #expect(r.status == 404 && r.json["error", "code"]?.string == "not_found", "\(path): \(r.body)")
            }
            #expect(try await api.get("/v1/batches", key: b.key).json["total"]?.int == 0)
            #expect(try await api.get("/v1/debts/D1", key: a.key).status == 200)
        }
    }

    @Test("POST /v1/debts: not JSON is 400 `invalid_json`; an ambiguous amount is 422 R013 on `amount`; over 64 KiB is 413 `too_large`",
          arguments: InProcessEsteira.dialects)
    func debtErrors(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (_, key) = try await InProcessEsteira.client(runtime)
            let notJSON = try await api.post("/v1/debts", key: key, json: "{nome: Ana")
            #expect(notJSON.status == 400 && notJSON.json["error", "code"]?.string == "invalid_json", "\(notJSON.body)")

            let due = TestCalendar.day(days: -30)
            let ambiguous = try await api.post("/v1/debts", key: key, json: """
                {"external_id": "X1", "name": "Ana", "document": "248.438.034-80", "amount": "1.234", "due_date": "\(due)"}
                """)
            #expect(ambiguous.status == 422)
            #expect(ambiguous.json["error", "code"]?.string == "R013" && ambiguous.json["error", "field"]?.string == "amount", "\(ambiguous.body)")

            let huge = try await api.post("/v1/debts", key: key, json: #"{"description": ""# + String(repeating: "x", count: 70_000) + #""}"#)
            #expect(huge.status == 413 && huge.json["error", "code"]?.string == "too_large", "\(huge.body)")
        }
    }
}

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// Submissions and the risk API, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: submissions and risk")
struct SubmissionAndRiskContractTests {
    @Test("a submission: 201 with Location, lines added, wrong items refused by index and code, 202 on submit, 409 after",
          arguments: InProcessEsteira.dialects)
    func submission(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (a, b) = try await InProcessEsteira.twoClients(runtime)
            let opened = try await api.request(.post, "/v1/submissions", key: a.key)
            #expect(opened.status == 201)
            let id = try #require(opened.json["id"]?.string)
            #expect(opened.header("Location") == "/v1/submissions/\(id)")
            #expect(opened.json["status"]?.string == "open" && opened.json["lines"]?.int == 0, "\(opened.body)")

            let due = TestCalendar.day(days: -30)
            let added = try await api.post("/v1/submissions/\(id)/debts", key: a.key, json: """
                [{"external_id": "S1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\(due)"}]
                """)
            #expect(added.status == 200 && added.json["added"]?.int == 1 && added.json["lines"]?.int == 1, "\(added.body)")
            // Item 1 is no object, item 2 has a field no debt has: nothing of the call is added.
            let refused = try await api.post("/v1/submissions/\(id)/debts", key: a.key, json: """
                [{"external_id": "S2", "name": "Bia", "document": "248.438.034-80", "amount": "1", "due_date": "\(due)"}, "texto", {"external_id": "S3", "valr": "1"}]
                """)
            #expect(refused.status == 422)
            let problems = refused.json["error", "items"]?.elements?.map { "\($0["index"]?.int ?? -1):\($0["code"]?.string ?? "")" }
            #expect(problems == ["1:invalid_json", "2:unknown_field"], "\(refused.body)")
            #expect(try await api.get("/v1/submissions/\(id)", key: b.key).status == 404)

            let submitted = try await api.request(.post, "/v1/submissions/\(id)/submit", key: a.key)
            #expect(submitted.status == 202, "\(submitted.body)")
            let batchID = try #require(submitted.json["id"]?.string)
            #expect(submitted.header("Location") == "/v1/batches/\(batchID)")
            #expect(try await api.request(.post, "/v1/submissions/\(id)/submit", key: a.key).status == 409)
        }
    }

    @Test("risk: 200 with the decision; the same trace key answers the first decision; an ambiguous amount is 422 R013; another client reads 404",
          arguments: InProcessEsteira.dialects)
    func risk(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (a, b) = try await InProcessEsteira.twoClients(runtime)
            let body = #"{"document": "248.438.034-80", "amount": "150,00", "trace_key": "tx-1"}"#
            let first = try await api.post("/v1/risk/analyze", key: a.key, json: body)
            #expect(first.status == 200, "\(first.body)")
            // No external service is configured here: its answer says so, and nothing fires.
            #expect(first.json["decision"]?.string == "approve" && first.json["external", "status"]?.string == "not_configured", "\(first.body)")
            #expect(first.json["amount_cents"]?.int == 15_000 && first.json["trace_key"]?.string == "tx-1")
            // The document is masked in the answer, never whole.
            #expect(first.json["document"]?.string != "24843803480", "\(first.body)")

            let again = try await api.post("/v1/risk/analyze", key: a.key, json: #"{"document": "248.438.034-80", "amount": "999,00", "trace_key": "tx-1"}"#)
            #expect(again.status == 200 && again.json["amount_cents"]?.int == 15_000 && again.json["created_at"] == first.json["created_at"], "\(again.body)")

            let ambiguous = try await api.post("/v1/risk/analyze", key: a.key, json: #"{"document": "248.438.034-80", "amount": "1.500"}"#)
            #expect(ambiguous.status == 422 && ambiguous.json["error", "code"]?.string == "R013", "\(ambiguous.body)")

            #expect(try await api.get("/v1/risk/decisions/tx-1", key: a.key).status == 200)
            let other = try await api.get("/v1/risk/decisions/tx-1", key: b.key)
            #expect(other.status == 404 && other.json["error", "code"]?.string == "not_found", "\(other.body)")
        }
    }
}

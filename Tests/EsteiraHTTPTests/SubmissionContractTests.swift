import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// Submissions, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: submissions")
struct SubmissionContractTests {
    @Test("lines added in two calls become one batch, in order, with exact counts and lines; wrong items refused by index and code; 409 after",
          arguments: InProcessEsteira.dialects)
    func linesThenSubmit(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            let due = "\(TestCalendar.year(-1))-01-31"
            let opened = try await api.request(.post, "/v1/submissions", key: client.key)
            #expect(opened.status == 201)
            let id = try #require(opened.json["id"]?.string)
            #expect(opened.json["status"]?.string == "open" && opened.json["lines"]?.int == 0, "\(opened.body)")
            #expect(opened.header("Location") == "/v1/submissions/\(id)")

            // Call 1: three debts, one with a semicolon and a quote in its name (the file must quote it).
            let l1 = #"{"external_id": "L1", "name": "Maria; \"Filha\"", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#
            let first = "[" + l1 + ","
                + #"{"debtId": "L2", "name": "João", "governmentId": "11144477735", "debtAmount": 20.5, "debtDueDate": "\#(due)"},"#
                + #"{"external_id": "L3", "name": "Ana", "document": "248.438.034-70", "amount": "5", "due_date": "\#(due)"}]"#
            let added = try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: first)
            #expect(added.status == 200)
            #expect(added.json["added"]?.int == 3 && added.json["lines"]?.int == 3, "\(added.body)")

            // A call with items of the wrong shape adds nothing and says which items and why.
            let bad = "[" + #"{"external_id": "X1", "name": "Ok", "document": "248.438.034-80", "amount": "1", "due_date": "\#(due)"}, "não é um objeto", "#
                + #"{"external_id": "X3", "valr": "1"}, {"external_id": "X4", "name": true}]"#
            let refused = try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: bad)
            #expect(refused.status == 422)
            let problems = refused.json["error", "items"]?.items.map { "\($0["index"]?.int ?? -1):\($0["code"]?.string ?? "")" }
            #expect(problems == ["1:invalid_json", "2:unknown_field", "3:invalid_json"], "\(refused.body)")

            // Call 2: a repeat of L1 with the same content (duplicate) and of L2 with another amount (conflict).
            let second = "[" + l1 + "," + #"{"external_id": "L2", "name": "João", "document": "111.444.777-35", "amount": "99", "due_date": "\#(due)"}]"#
            #expect(try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: second).json["lines"]?.int == 5)
            #expect(try await api.get("/v1/submissions/\(id)", key: other.key).status == 404)

            let submitted = try await api.request(.post, "/v1/submissions/\(id)/submit", key: client.key)
            #expect(submitted.status == 202, "\(submitted.body)")
            let batchID = try #require(submitted.json["id"]?.string)
            #expect(submitted.header("Location") == "/v1/batches/\(batchID)")
            let batch = try await api.finishedBatch(batchID, key: client.key)
            // Header on line 1, items on lines 2-6: L1 L2 L3(bad CPF) L1(duplicate) L2(conflict).
            #expect(batch.counts == ["received": 5, "registered": 2, "updated": 0, "withdrawn": 0, "duplicates": 1, "rejected": 2, "review": 0])
            #expect(batch["source"]?.string == "api_lines")
            let rejects = try await api.get("/v1/batches/\(batchID)/rejects", key: client.key).json["items"]?.items ?? []
            #expect(rejects.map { "\($0["line"]?.int ?? 0):\($0["code"]?.string ?? "")" } == ["4:R003", "6:R009"])
            #expect(try await api.get("/v1/debts/L1", key: client.key).json["name"]?.string == "Maria; \"Filha\"")
            #expect(try await api.get("/v1/debts/L2", key: client.key).json["amount_cents"]?.int == 2_050)

            // Submitted: no more lines, no second submit.
            let after = try await api.get("/v1/submissions/\(id)", key: client.key).json
            #expect(after["status"]?.string == "submitted" && after["batch_id"]?.string == batchID)
            #expect(try await api.request(.post, "/v1/submissions/\(id)/submit", key: client.key).status == 409)
            #expect(try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: first).status == 409)
            // Empty submissions and oversized calls are refused.
            let empty = try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string)
            #expect(try await api.request(.post, "/v1/submissions/\(empty)/submit", key: client.key).status == 422)
            let many = "[" + Array(repeating: l1, count: 10_001).joined(separator: ",") + "]"
            #expect(try await api.post("/v1/submissions/\(empty)/debts", key: client.key, json: many).status == 413)
        }
    }

    @Test("a submission left open past its time expires: 410, and its lines are dropped", arguments: InProcessEsteira.dialects)
    func expiry(dialect: SQLDialect) async throws {
        // Three seconds: long enough for the first add on a loaded machine (one second was not).
        try await InProcessEsteira.with(dialect, environment: ["ESTEIRA_SUBMISSION_TTL_SECONDS": "3"]) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let id = try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string)
            let item = "[" + #"{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "1", "due_date": "\#(TestCalendar.year(-1))-01-31"}]"#
            #expect(try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: item).status == 200)
            try await Task.sleep(for: .milliseconds(3_500))
            #expect(try await api.get("/v1/submissions/\(id)", key: client.key).json["status"]?.string == "expired")
            #expect(try await api.post("/v1/submissions/\(id)/debts", key: client.key, json: item).status == 410)
            #expect(try await api.request(.post, "/v1/submissions/\(id)/submit", key: client.key).status == 410)
            // Opening another sweeps the expired one's lines away.
            _ = try await api.request(.post, "/v1/submissions", key: client.key)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM submission_lines") == "0")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT status FROM submissions WHERE id = '\(id)'") == "expired")
        }
    }
}

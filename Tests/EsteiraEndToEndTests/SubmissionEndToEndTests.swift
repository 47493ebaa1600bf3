import EsteiraTestSupport
import Foundation
import Testing

@Suite("End to end: debts sent as JSON lines, then submitted", .offSharedPool, .serialized)
struct SubmissionEndToEndTests {
    func json(_ value: Any) -> Data { try! JSONSerialization.data(withJSONObject: value) }

    @Test("lines added in two calls become one batch, in order, with exact counts and lines")
    func linesThenSubmit() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let other = try server.createClient(name: "Outra", document: "11.444.777/0001-61")
        try server.start()

        let opened = try await server.request("POST", "/v1/submissions", key: client.key)
        #expect(opened.status == 201)
        let id = try #require(opened.object["id"] as? String)
        #expect(opened.object["status"] as? String == "open" && opened.object["lines"] as? Int == 0)
        #expect(opened.headers["location"] == "/v1/submissions/\(id)")

        // Call 1: three debts, one with a semicolon and a quote in its name (the file must quote it).
        let first: [[String: Any]] = [
            ["external_id": "L1", "name": "Maria; \"Filha\"", "document": "248.438.034-80", "amount": "10,00", "due_date": "\(TestCalendar.year(-1))-01-31"],
            ["debtId": "L2", "name": "João", "governmentId": "11144477735", "debtAmount": 20.5, "debtDueDate": "\(TestCalendar.year(-1))-01-31"],
            ["external_id": "L3", "name": "Ana", "document": "248.438.034-70", "amount": "5", "due_date": "\(TestCalendar.year(-1))-01-31"],
        ]
        let added = try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                             body: json(first), contentType: "application/json")
        #expect(added.status == 200)
        #expect(added.object["added"] as? Int == 3 && added.object["lines"] as? Int == 3)

        // A call with items of the wrong shape adds nothing and says which items and why.
        let bad: [Any] = [
            ["external_id": "X1", "name": "Ok", "document": "248.438.034-80", "amount": "1", "due_date": "\(TestCalendar.year(-1))-01-31"],
            "não é um objeto",
            ["external_id": "X3", "valr": "1"],
            ["external_id": "X4", "name": true],
        ]
        let refused = try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                               body: json(bad), contentType: "application/json")
        #expect(refused.status == 422)
        let problems = ((refused.object["error"] as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        #expect(problems.map { "\($0["index"] as? Int ?? -1):\($0["code"] as? String ?? "")" }
            == ["1:invalid_json", "2:unknown_field", "3:invalid_json"])

        // Call 2: a repeat of L1 with the same content (duplicate) and of L2 with another amount (conflict).
        let second: [[String: Any]] = [
            ["external_id": "L1", "name": "Maria; \"Filha\"", "document": "248.438.034-80", "amount": "10,00", "due_date": "\(TestCalendar.year(-1))-01-31"],
            ["external_id": "L2", "name": "João", "document": "111.444.777-35", "amount": "99", "due_date": "\(TestCalendar.year(-1))-01-31"],
        ]
        let added2 = try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                              body: json(second), contentType: "application/json")
        #expect(added2.object["lines"] as? Int == 5)
        #expect(try await server.request("GET", "/v1/submissions/\(id)", key: other.key).status == 404)

        let submitted = try await server.request("POST", "/v1/submissions/\(id)/submit", key: client.key)
        #expect(submitted.status == 202)
        let batchID = try #require(submitted.object["id"] as? String)
        #expect(submitted.headers["location"] == "/v1/batches/\(batchID)")
        let batch = try await server.waitForBatch(batchID, key: client.key, timeout: 60)
        // Header on line 1, items on lines 2-6: L1 L2 L3(bad CPF) L1(duplicate) L2(conflict).
        #expect(batch.counts() == ["received": 5, "registered": 2, "duplicates": 1, "rejected": 2, "review": 0])
        #expect(batch["source"] as? String == "api_lines")
        let rejects = try await server.request("GET", "/v1/batches/\(batchID)/rejects", key: client.key).object
        #expect((rejects["items"] as? [[String: Any]] ?? []).map { "\($0["line"] as? Int ?? 0):\($0["code"] as? String ?? "")" }
            == ["4:R003", "6:R009"])
        let l1 = try await server.request("GET", "/v1/debts/L1", key: client.key).object
        #expect(l1["name"] as? String == "Maria; \"Filha\"")
        #expect(try await server.request("GET", "/v1/debts/L2", key: client.key).object["amount_cents"] as? Int == 2_050)

        // Submitted: no more lines, no second submit.
        let after = try await server.request("GET", "/v1/submissions/\(id)", key: client.key).object
        #expect(after["status"] as? String == "submitted" && after["batch_id"] as? String == batchID)
        #expect(try await server.request("POST", "/v1/submissions/\(id)/submit", key: client.key).status == 409)
        #expect(try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                         body: json(first), contentType: "application/json").status == 409)
        // Empty submissions and oversized calls are refused.
        let empty = try #require(try await server.request("POST", "/v1/submissions", key: client.key).object["id"] as? String)
        #expect(try await server.request("POST", "/v1/submissions/\(empty)/submit", key: client.key).status == 422)
        let many = Array(repeating: first[0], count: 10_001)
        #expect(try await server.request("POST", "/v1/submissions/\(empty)/debts", key: client.key,
                                         body: json(many), contentType: "application/json").status == 413)
    }

    @Test("a submission left open past its time expires: 410, and its lines are dropped")
    func expiry() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        // Three seconds: long enough for the first add on a loaded machine (one second was not).
        try server.start(["ESTEIRA_SUBMISSION_TTL_SECONDS": "3"])
        let id = try #require(try await server.request("POST", "/v1/submissions", key: client.key).object["id"] as? String)
        let item: [[String: Any]] = [["external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "1", "due_date": "\(TestCalendar.year(-1))-01-31"]]
        #expect(try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                         body: json(item), contentType: "application/json").status == 200)
        try await Task.sleep(for: .milliseconds(3_500))
        #expect(try await server.request("GET", "/v1/submissions/\(id)", key: client.key).object["status"] as? String == "expired")
        #expect(try await server.request("POST", "/v1/submissions/\(id)/debts", key: client.key,
                                         body: json(item), contentType: "application/json").status == 410)
        #expect(try await server.request("POST", "/v1/submissions/\(id)/submit", key: client.key).status == 410)
        // Opening another sweeps the expired one's lines away.
        _ = try await server.request("POST", "/v1/submissions", key: client.key)
        #expect(try server.sql("SELECT COUNT(*) FROM submission_lines") == "0")
        #expect(try server.sql("SELECT status FROM submissions WHERE id = '\(id)'") == "expired")
    }
}

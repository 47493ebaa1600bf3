import EsteiraTestSupport
import Foundation
import Testing

@Suite("End to end: one debt at a time, POST /v1/debts", .offSharedPool, .serialized)
struct SingleDebtEndToEndTests {
    func post(_ server: EsteiraProcess, _ key: String, _ json: String) async throws -> EsteiraProcess.HTTPResult {
        try await server.request("POST", "/v1/debts", key: key, body: Data(json.utf8), contentType: "application/json")
    }

    @Test("registered (201), re-sent (200), conflicting (409), invalid (422), each kept as a batch of one")
    func singleDebt() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let other = try server.createClient(name: "Outra", document: "11.444.777/0001-61")
        try server.start()

        // 1234.56 reais as a JSON number is 123,456 cents; the e-mail is kept in lowercase.
        let s1 = #"{"external_id": "S1", "name": "Maria", "document": "248.438.034-80", "amount": 1234.56, "due_date": "01/02/\#(TestCalendar.year(-1))", "email": "Maria@Example.com"}"#
        let created = try await post(server, client.key, s1)
        #expect(created.status == 201)
        #expect(created.headers["location"] == "/v1/debts/S1")
        let debt = try #require(created.object["debt"] as? [String: Any])
        #expect(debt["amount_cents"] as? Int == 123_456)
        #expect(debt["amount"] as? String == "1234.56")
        #expect(debt["due_date"] as? String == "\(TestCalendar.year(-1))-02-01")
        #expect(debt["document"] as? String == "24843803480")
        #expect(debt["email"] as? String == "maria@example.com")
        let firstBatch = try #require(created.object["batch_id"] as? String)
        #expect(debt["batch_id"] as? String == firstBatch)
        #expect(try await server.request("GET", "/v1/debts/S1", key: client.key).object["amount_cents"] as? Int == 123_456)

        // The same content again: 200 with the debt registered the first time.
        let again = try await post(server, client.key, s1)
        #expect(again.status == 200)
        #expect((again.object["debt"] as? [String: Any])?["batch_id"] as? String == firstBatch)

        // The same id with another amount: 409, and the registry keeps the first.
        let conflicting = try await post(server, client.key, s1.replacingOccurrences(of: "1234.56", with: "\"99,00\""))
        #expect(conflicting.status == 409)
        let conflictError = try #require(conflicting.object["error"] as? [String: Any])
        #expect(conflictError["code"] as? String == "R009")
        #expect(conflictError["field"] as? String == "external_id")
        #expect((conflicting.object["debt"] as? [String: Any])?["amount_cents"] as? Int == 123_456)

        // A wrong check digit and a zero amount: 422 with both problems.
        let invalid = try await post(server, client.key,
            #"{"external_id": "S9", "name": "Ana", "document": "248.438.034-70", "amount": "0", "due_date": "\#(TestCalendar.year(-1))-01-31"}"#)
        #expect(invalid.status == 422)
        let issues = ((invalid.object["error"] as? [String: Any])?["issues"] as? [[String: Any]]) ?? []
        #expect(issues.map { "\($0["field"] as? String ?? ""):\($0["code"] as? String ?? "")" } == ["document:R003", "amount:R005"])
        #expect(try await server.request("GET", "/v1/debts/S9", key: client.key).status == 404)

        // The bankslip seed's names; 0.29 is 29 cents (as a binary float it is 0.28999…).
        let seed = try await post(server, client.key,
            #"{"debtId": "S2", "name": "João", "governmentId": "11144477735", "email": "j@example.com", "debtAmount": 0.29, "debtDueDate": "\#(TestCalendar.year(-1))-01-31"}"#)
        #expect(seed.status == 201)
        #expect((seed.object["debt"] as? [String: Any])?["amount_cents"] as? Int == 29)

        // Bodies that are not a debt: 400 with a code, nothing recorded.
        #expect(try await post(server, client.key, "nome;cpf").object["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "invalid_json")
        let unknown = try await post(server, client.key, #"{"external_id": "S3", "valr": "10"}"#)
        #expect(unknown.status == 400 && unknown.text.contains("unknown_field") && unknown.text.contains("valr"))
        let boolean = try await post(server, client.key, #"{"external_id": "S3", "amount": true}"#)
        #expect(boolean.status == 400 && boolean.text.contains("invalid_json"))
        let huge = try await server.request("POST", "/v1/debts", key: client.key,
                                            body: Data(repeating: 0x20, count: 70_000), contentType: "application/json")
        #expect(huge.status == 413)

        // Five calls reached the registry: five batches of one record, with exact counts.
        let batches = try await server.request("GET", "/v1/batches?per_page=50", key: client.key).object
        let items = batches["items"] as? [[String: Any]] ?? []
        #expect(items.count == 5)
        let sums = items.reduce(into: [String: Int]()) { acc, b in for (k, v) in b.counts() { acc[k, default: 0] += v } }
        #expect(sums == ["received": 5, "registered": 2, "duplicates": 1, "rejected": 2, "review": 0])
        #expect(items.allSatisfy { ($0["source"] as? String) == "api_debt" })
        let invalidBatch = try #require(invalid.object["batch_id"] as? String)
        let rejects = try await server.request("GET", "/v1/batches/\(invalidBatch)/rejects", key: client.key).object
        #expect((rejects["items"] as? [[String: Any]] ?? []).map { "\($0["line"] as? Int ?? 0):\($0["code"] as? String ?? "")" }
            == ["1:R003", "1:R005"])

        // Another client does not see the debt.
        #expect(try await server.request("GET", "/v1/debts/S1", key: other.key).status == 404)
    }

    @Test("the same debt sent ten times at once is registered once")
    func concurrentSingleDebts() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        try server.start()
        let body = #"{"external_id": "C1", "name": "Maria", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(TestCalendar.year(-1))-01-31"}"#
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<10 { group.addTask { try await post(server, client.key, body).status } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.sorted() == [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
        #expect(try server.sql("SELECT COUNT(*) FROM debts WHERE external_id = 'C1'") == "1")
    }
}

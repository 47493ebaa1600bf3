import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// `POST /v1/debts`, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: one debt at a time")
struct SingleDebtContractTests {
    @Test("registered (201), re-sent (200), conflicting (409), invalid (422), each kept as a batch of one", arguments: InProcessEsteira.dialects)
    func singleDebt(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let (client, other) = try await InProcessEsteira.twoClients(runtime)
            func post(_ json: String) async throws -> APIResult { try await api.post("/v1/debts", key: client.key, json: json) }

            // 1234.56 reais as a JSON number is 123,456 cents; the e-mail is kept in lowercase.
            let s1 = #"{"external_id": "S1", "name": "Maria", "document": "248.438.034-80", "amount": 1234.56, "due_date": "01/02/\#(TestCalendar.year(-1))", "email": "Maria@Example.com"}"#
            let created = try await post(s1)
            #expect(created.status == 201, "\(created.body)")
            #expect(created.header("Location") == "/v1/debts/S1")
            let debt = created.json["debt"]
            #expect(debt?["amount_cents"]?.int == 123_456)
            #expect(debt?["amount"]?.string == "1234.56")
            #expect(debt?["due_date"]?.string == "\(TestCalendar.year(-1))-02-01")
            #expect(debt?["document"]?.string == "24843803480")
            #expect(debt?["email"]?.string == "maria@example.com")
            let firstBatch = try #require(created.json["batch_id"]?.string)
            #expect(debt?["batch_id"]?.string == firstBatch)
            #expect(try await api.get("/v1/debts/S1", key: client.key).json["amount_cents"]?.int == 123_456)

            // The same content again: 200 with the debt registered the first time.
            let again = try await post(s1)
            #expect(again.status == 200)
            #expect(again.json["debt", "batch_id"]?.string == firstBatch)

            // The same id with another amount: 409, and the registry keeps the first.
            let conflicting = try await post(s1.replacingOccurrences(of: "1234.56", with: "\"99,00\""))
            #expect(conflicting.status == 409)
            #expect(conflicting.json["error", "code"]?.string == "R009")
            #expect(conflicting.json["error", "field"]?.string == "external_id")
            #expect(conflicting.json["debt", "amount_cents"]?.int == 123_456)

            // A wrong check digit and a zero amount: 422 with both problems.
            let invalid = try await post(#"{"external_id": "S9", "name": "Ana", "document": "248.438.034-70", "amount": "0", "due_date": "\#(TestCalendar.year(-1))-01-31"}"#)
            #expect(invalid.status == 422)
            let issues = invalid.json["error", "issues"]?.items.map { "\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")" }
            #expect(issues == ["document:R003", "amount:R005"], "\(invalid.body)")
            #expect(try await api.get("/v1/debts/S9", key: client.key).status == 404)

            // The bankslip seed's names; 0.29 is 29 cents (as a binary float it is 0.28999…).
            let seed = try await post(#"{"debtId": "S2", "name": "João", "governmentId": "11144477735", "email": "j@example.com", "debtAmount": 0.29, "debtDueDate": "\#(TestCalendar.year(-1))-01-31"}"#)
            #expect(seed.status == 201)
            #expect(seed.json["debt", "amount_cents"]?.int == 29)

            // Bodies that are not a debt: 400 with a code, nothing recorded.
            #expect(try await post("nome;cpf").json["error", "code"]?.string == "invalid_json")
            let unknown = try await post(#"{"external_id": "S3", "valr": "10"}"#)
            #expect(unknown.status == 400 && unknown.body.contains("unknown_field") && unknown.body.contains("valr"))
            let boolean = try await post(#"{"external_id": "S3", "amount": true}"#)
            #expect(boolean.status == 400 && boolean.body.contains("invalid_json"))
            let huge = try await api.request(.post, "/v1/debts", key: client.key, bytes: [UInt8](repeating: 0x20, count: 70_000))
            #expect(huge.status == 413)

            // Five calls reached the registry: five batches of one record, with exact counts.
            let items = try await api.get("/v1/batches?per_page=50", key: client.key).json["items"]?.items ?? []
            #expect(items.count == 5)
            let sums = items.reduce(into: [String: Int]()) { acc, b in for (k, v) in b.counts { acc[k, default: 0] += v } }
            #expect(sums == ["received": 5, "registered": 2, "updated": 0, "withdrawn": 0, "duplicates": 1, "rejected": 2, "review": 0])
            #expect(items.allSatisfy { $0["source"]?.string == "api_debt" })
            let invalidBatch = try #require(invalid.json["batch_id"]?.string)
            let rejects = try await api.get("/v1/batches/\(invalidBatch)/rejects", key: client.key).json["items"]?.items ?? []
            #expect(rejects.map { "\($0["line"]?.int ?? 0):\($0["code"]?.string ?? "")" } == ["1:R003", "1:R005"])

            // Another client does not see the debt.
            #expect(try await api.get("/v1/debts/S1", key: other.key).status == 404)
        }
    }

    @Test("the same debt sent ten times at once is registered once", arguments: InProcessEsteira.dialects)
    func concurrentSingleDebts(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let body = #"{"external_id": "C1", "name": "Maria", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(TestCalendar.year(-1))-01-31"}"#
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 { group.addTask { try await api.post("/v1/debts", key: client.key, json: body).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts WHERE external_id = 'C1'") == "1")
        }
    }
}

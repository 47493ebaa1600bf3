import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The risk API, in process, on SQLite and on PostgreSQL. Its answers are bound by the 2-second
/// deadline, counted on the machine's clock: scripts/test runs this suite alone, as it runs the
/// real-binary risk suites, so that no other suite takes the cores while it is measured.
@Suite("API contract, in process: risk")
struct RiskContractTests {
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

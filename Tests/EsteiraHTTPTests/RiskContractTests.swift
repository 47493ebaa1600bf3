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

    @Test("with the external service standing in: approve, reject on the blacklist, review on a restricted answer, fallback when the service hangs; decisions read back",
          arguments: InProcessEsteira.dialects)
    func externalService(dialect: SQLDialect) async throws {
        let standIn = try StandIn()
        defer { standIn.stop() }
        try await standIn.control(#"{"delay_ms": 20, "restricted": {"11144477735": "óbito"}}"#)
        let environment = ["ESTEIRA_RISK_EXTERNAL_URL": standIn.base + "/validate", "ESTEIRA_RISK_CALL_TIMEOUT_MS": "300", "ESTEIRA_RISK_FALLBACK": "review"]
        try await InProcessEsteira.with(dialect, environment: environment) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            let op = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin).apiKey
            #expect(try await api.request(.put, "/v1/admin/blacklist/52998224725", key: op, body: #"{"reason": "fraude"}"#).status == 201)

            func analyze(_ json: String) async throws -> JSONValue {
                let r = try await api.post("/v1/risk/analyze", key: client.key, json: json)
                #expect(r.status == 200, "\(r.body)")
                return r.json
            }
            func codes(_ o: JSONValue) -> [String] { (o["reasons"]?.elements ?? []).map { $0["code"]?.string ?? "" } }

            // 248.438.034-80 is a valid CPF (TaxIDTests); nothing fires.
            let clean = try await analyze(#"{"document": "248.438.034-80", "amount": "150,00", "trace_key": "t-1", "metadata": {"canal": "loja"}}"#)
            #expect(clean["decision"]?.string == "approve" && clean["score"]?.int == 0)
            #expect(clean["external", "status"]?.string == "clear")
            #expect(clean["trace_key"]?.string == "t-1")
            #expect(clean["document"]?.string == "248.***.***-80") // answers carry the document masked

            let listed = try await analyze(#"{"document": "529.982.247-25", "amount": 10}"#)
            #expect(listed["decision"]?.string == "reject" && codes(listed) == ["K002"])
            let restricted = try await analyze(#"{"document": "111.444.777-35", "amount": "10,00"}"#)
            #expect(restricted["decision"]?.string == "review" && codes(restricted) == ["K003"])
            let invalid = try await analyze(#"{"document": "111.444.777-36", "amount": "10,00"}"#)
            #expect(invalid["decision"]?.string == "reject" && codes(invalid).first == "K001")

            // The service hangs: the answer still comes within the 2-second budget, by the fallback.
            try await standIn.control(#"{"hang": true}"#)
            let fallback = try await analyze(#"{"document": "123.456.789-09", "amount": "10,00", "trace_key": "t-hang"}"#)
            #expect(fallback["decision"]?.string == "review" && codes(fallback) == ["K004"])
            #expect(fallback["used_fallback"]?.bool == true)
            #expect((fallback["elapsed_ms"]?.int ?? 9999) < 2000)

            // Read back by trace key; the same trace key again answers the first decision.
            let stored = try await api.get("/v1/risk/decisions/t-1", key: client.key).json
            #expect(stored["decision"]?.string == "approve" && stored["trace_key"]?.string == "t-1")
            let again = try await analyze(#"{"document": "529.982.247-25", "amount": "1,00", "trace_key": "t-1"}"#)
            #expect(again["decision"]?.string == "approve")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT metadata FROM risk_decisions WHERE trace_key = 't-1'") == #"{"canal":"loja"}"#)
            #expect(try await api.get("/v1/risk/decisions/nao-existe", key: client.key).status == 404)
        }
    }
}

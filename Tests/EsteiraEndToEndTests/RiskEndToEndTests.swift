import EsteiraCore
import Foundation
import Testing

@Suite("End to end: POST /v1/risk/analyze with the external service standing in", .offSharedPool, .serialized)
struct RiskEndToEndTests {
    @Test("approve, reject on the blacklist, review on a restricted answer, fallback when the service hangs; decisions read back")
    func analyze() async throws {
        let standIn = try StandIn()
        defer { standIn.stop() }
        try await standIn.control(#"{"delay_ms": 20, "restricted": {"11144477735": "óbito"}}"#)
        let server = try EsteiraProcess(environment: ["ESTEIRA_RISK_EXTERNAL_URL": standIn.base + "/validate",
                                                      "ESTEIRA_RISK_CALL_TIMEOUT_MS": "300", "ESTEIRA_RISK_FALLBACK": "review"])
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let op = try server.createOperator()
        try server.start()
        #expect(try await server.request("PUT", "/v1/admin/blacklist/52998224725", key: op, body: Data(#"{"reason": "fraude"}"#.utf8),
                                         contentType: "application/json").status == 201)

        func analyze(_ json: String) async throws -> JSONValue {
            let r = try await server.request("POST", "/v1/risk/analyze", key: client.key, body: Data(json.utf8), contentType: "application/json")
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
        let stored = try await server.request("GET", "/v1/risk/decisions/t-1", key: client.key).json
        #expect(stored["decision"]?.string == "approve" && stored["trace_key"]?.string == "t-1")
        let again = try await analyze(#"{"document": "529.982.247-25", "amount": "1,00", "trace_key": "t-1"}"#)
        #expect(again["decision"]?.string == "approve")
        #expect(try server.sql("SELECT metadata FROM risk_decisions WHERE trace_key = 't-1'") == #"{"canal":"loja"}"#)
        #expect(try await server.request("GET", "/v1/risk/decisions/nao-existe", key: client.key).status == 404)
    }
}

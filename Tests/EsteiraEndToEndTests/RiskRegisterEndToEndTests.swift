import EsteiraCore
import Foundation
import EsteiraTestSupport
import Testing

@Suite("End to end: the risk rules in the register stage", .offSharedPool, .serialized)
struct RiskRegisterEndToEndTests {
    /// The API and a separate worker process: the blacklist is changed through the API, and the
    /// worker, which keeps its own copy of the list, must judge by the list as it is now.
    @Test("reject rejects the row with the rule's code; review registers it flagged, listed by ?review=true; a blacklist change reaches another process")
    func registerStage() async throws {
        let standIn = try StandIn()
        defer { standIn.stop() }
        try await standIn.control(#"{"delay_ms": 5, "restricted": {"11144477735": "óbito"}}"#)
        let risk = ["ESTEIRA_RISK_EXTERNAL_URL": standIn.base + "/validate", "ESTEIRA_RISK_CALL_TIMEOUT_MS": "1000"]
        let server = try EsteiraProcess(environment: risk)
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let op = try server.createOperator()
        try server.start(["ESTEIRA_NO_WORKERS": "1"])
        try server.startWorker()

        #expect(try await server.post("/v1/admin/blacklist/52998224725", key: op, json: #"{"reason": "fraude"}"#, method: "PUT").status == 201)
        // The client's limits: above 1.000,00 or below 1,00 goes to review.
        let limits = try await server.post("/v1/admin/clients/\(client.id)/limits", key: op, json: #"{"max_amount": "1.000,00", "min_amount": "1,00"}"#, method: "PUT")
        #expect(limits.status == 200, "\(limits.body)")
        #expect(limits.json["max_amount"]?.string == "1000.00" && limits.json["min_amount"]?.string == "1.00")
        let badLimits = try await server.post("/v1/admin/clients/\(client.id)/limits", key: op, json: #"{"max_amount": "abc"}"#, method: "PUT")
        #expect(badLimits.status == 422 && badLimits.body.contains("max_amount") && badLimits.body.contains("R004"))
        #expect(try await server.post("/v1/admin/clients/nao-existe/limits", key: op, json: #"{}"#, method: "PUT").status == 404)
        #expect(try await server.post("/v1/admin/clients/\(client.id)/limits", key: client.key, json: #"{}"#, method: "PUT").status == 401)

        // Dates from the day the test runs: a due date more than five years before the day the
        // file is received is time-barred (K007), so R4 is five years and two months old and R7
        // four years and ten months; the others are a year old. The CPFs' check digits were
        // computed by hand (mod 11): 98765432100, 39053344705, 45317828791.
        let recent = TestCalendar.day(years: -1)
        let file = """
            external_id,name,document,amount,due_date
            R1,Ana,248.438.034-80,150.00,\(recent)
            R2,Bruno,529.982.247-25,80.00,\(recent)
            R3,Carla,123.456.789-09,1500.00,\(recent)
            R4,Davi,987.654.321-00,200.00,\(TestCalendar.day(years: -5, months: -2))
            R5,Eva,111.444.777-35,90.00,\(recent)
            R6,Fabio,390.533.447-05,0.50,\(recent)
            R7,Gil,453.178.287-91,999.99,\(TestCalendar.day(years: -5, months: 2))

            """
        let id = try await server.upload(Data(file.utf8), key: client.key, name: "risco.csv")
        let batch = try await server.waitForBatch(id, key: client.key, timeout: 120)
        #expect(batch["status"]?.string == "completed_with_rejects")
        // 7 rows: R2 rejected (blacklisted); R3 (K005), R4 (K007), R5 (K003), R6 (K008) flagged;
        // R1 and R7 (999,99 is under the limit; four years and ten months is inside five years) approved.
        #expect(batch.counts == ["received": 7, "registered": 6, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 1, "review": 4])

        let rejects = try await server.request("GET", "/v1/batches/\(id)/rejects", key: client.key).json
        let items = rejects["items"]?.elements ?? []
        #expect(items.map { "\($0["line"]?.int ?? 0):\($0["field"]?.string ?? ""):\($0["code"]?.string ?? "")" } == ["3:document:K002"])
        let message = items.first?["message"]?.string ?? ""
        #expect(message.contains("fraude"))

        let review = try await server.request("GET", "/v1/debts?review=true", key: client.key).json
        #expect(review["total"]?.int == 4)
        let flagged = (review["items"]?.elements ?? []).map { debt -> String in
            let codes = ((debt["review"])?["reasons"]?.elements ?? []).map { $0["code"]?.string ?? "" }
            return "\(debt["external_id"]?.string ?? ""):\(debt["status"]?.string ?? ""):\(codes.joined(separator: "+"))"
        }
        #expect(flagged == ["R3:review:K005", "R4:review:K007", "R5:review:K003", "R6:review:K008"])
        let r3 = try await server.request("GET", "/v1/debts/R3", key: client.key).json
        #expect((r3["review"])?["score"]?.int == 30)
        let r1 = try await server.request("GET", "/v1/debts/R1", key: client.key).json
        #expect(r1["status"]?.string == "registered" && r1["review"] == .null)
        #expect(try await server.request("GET", "/v1/debts", key: client.key).json["total"]?.int == 6)
        #expect(try await server.request("GET", "/v1/debts?review=talvez", key: client.key).status == 400)

        // The operator takes the CPF off the list through the API; the worker's copy still has it,
        // and must not use it: R2 sent again is registered.
        #expect(try await server.post("/v1/admin/blacklist/52998224725", key: op, json: #"{"reason": "engano"}"#, method: "DELETE").status == 204)
        let again = try await server.upload(Data("external_id,name,document,amount,due_date\nR2,Bruno,529.982.247-25,80.00,\(recent)\n".utf8),
                                            key: client.key, name: "de-novo.csv")
        let second = try await server.waitForBatch(again, key: client.key, timeout: 120)
        #expect(second.counts == ["received": 1, "registered": 1, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 0, "review": 0])

        // One debt on its own is judged the same way, in the API process.
        #expect(try await server.post("/v1/admin/blacklist/71460238001", key: op, json: #"{"reason": "ordem judicial"}"#, method: "PUT").status == 201)
        let listed = try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "S1", "name": "Hugo", "document": "714.602.380-01", "amount": "10,00", "due_date": "\#(recent)"}"#)
        #expect(listed.status == 422)
        let error = listed.json["error"] ?? .null
        #expect(error["code"]?.string == "K002" && error["field"]?.string == "document")
        let big = try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "S2", "name": "Iara", "document": "248.438.034-80", "amount": "2000,00", "due_date": "\#(recent)"}"#)
        #expect(big.status == 201)
        let debt = big.json["debt"] ?? .null
        #expect(debt["status"]?.string == "review")
        #expect(((debt["review"])?["reasons"]?.elements)?.first?["code"]?.string == "K005")
        #expect(try await server.request("GET", "/v1/debts?review=true", key: client.key).json["total"]?.int == 5)

        // The command line sets the limits too; with none, the agency's default (no limit) applies.
        _ = try server.command(["clients", "limits", "--id", client.id])
        let cleared = try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "S3", "name": "Iara", "document": "248.438.034-80", "amount": "2000,00", "due_date": "\#(recent)"}"#)
        #expect((cleared.json["debt"])?["status"]?.string == "registered")
        _ = try server.command(["clients", "limits", "--id", client.id, "--max-amount", "100,00"])
        let capped = try await server.post("/v1/debts", key: client.key, json: #"{"external_id": "S4", "name": "Iara", "document": "248.438.034-80", "amount": "100,01", "due_date": "\#(recent)"}"#)
        #expect((capped.json["debt"])?["status"]?.string == "review")
    }
}

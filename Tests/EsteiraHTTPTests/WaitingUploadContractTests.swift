import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// `POST /v1/batches?wait=N`: a small file answered whole, in process, on SQLite and PostgreSQL.
@Suite("API contract, in process: an upload that waits for its batch", .serialized)
struct WaitingUploadContractTests {
    @Test("a 10-row upload with ?wait=10 answers final with its rejects; a wait past 30 s is refused before anything is kept",
          arguments: InProcessEsteira.dialects)
    func waitsForTheBatch(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime, name: "Loja")
            // Ten rows; by hand, line 4 (the third row) has a CPF whose check digits are wrong (R003)
            // and line 9 an amount that is not one (R004 or the amount's code): 8 register.
            let past = TestCalendar.year(-1)
            var file = "external_id;name;document;amount;due_date\n"
            for i in 1...10 {
                let document = i == 3 ? "248.438.034-81" : "248.438.034-80"
                let amount = i == 8 ? "dez reais" : "\(i),00"
                file += "W\(i);Devedor \(i);\(document);\(amount);\(past)-03-0\(i % 9 + 1)\n"
            }
            let r = try await api.request(.post, "/v1/batches?wait=10&file_name=pequeno.csv", key: client.key, bytes: Array(file.utf8),
                                          contentType: "text/csv")
            #expect(r.status == 200, "\(r.body)")
            #expect(r.json["status"]?.string == "completed_with_rejects")
            #expect(r.json.counts == ["received": 10, "registered": 8, "updated": 0, "withdrawn": 0, "duplicates": 0, "rejected": 2, "review": 0])
            #expect(r.json["rejects_total"]?.int == 2)
            let rejects = r.json["rejects"]?.elements ?? []
            #expect(rejects.map { $0["line"]?.int ?? 0 } == [4, 9])
            #expect(rejects.map { $0["field"]?.string ?? "" } == ["document", "amount"])
            #expect(rejects.allSatisfy { ($0["code"]?.string ?? "").hasPrefix("R") && !($0["message"]?.string ?? "").isEmpty })
            #expect(r.headers[.location] == "/v1/batches/\(r.json["id"]?.string ?? "")")

            // Past the limit, or not a number: 400, and no batch kept.
            for wait in ["31", "-1", "dez"] {
                let bad = try await api.request(.post, "/v1/batches?wait=\(wait)", key: client.key, bytes: Array(file.utf8), contentType: "text/csv")
                #expect(bad.status == 400 && bad.json["error", "code"]?.string == "invalid_parameter", "\(wait): \(bad.body)")
            }
            #expect(try await api.get("/v1/batches", key: client.key).json["total"]?.int == 1)
            // No wait: accepted at once, as ever.
            let now = try await api.request(.post, "/v1/batches?wait=0", key: client.key, bytes: Array(file.utf8), contentType: "text/csv")
            #expect(now.status == 202)
        }
    }
}

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// A client's limits, in process, on SQLite and PostgreSQL: requests per second answered 429
/// with `Retry-After`, and rows a day refused before a file is kept.
@Suite("Quotas: requests per second and rows a day", .serialized)
struct QuotasContractTests {
    @Test("past its requests per second a client gets 429 rate_limited with Retry-After; admins set the rate, audited",
          arguments: InProcessEsteira.dialects)
    func requestsPerSecond(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let (_, admin) = try await OperatorStore(db: runtime.db).create(name: "Ana Admin", role: .admin)
            let (_, nina) = try await OperatorStore(db: runtime.db).create(name: "Nina", role: .operator)
            #expect(try await api.request(.put, "/v1/admin/clients/\(client.id)/quotas", key: nina, body: #"{"requests_per_second": 2}"#).status == 403)
            let set = try await api.request(.put, "/v1/admin/clients/\(client.id)/quotas", key: admin, body: #"{"requests_per_second": 2}"#)
            #expect(set.status == 200, "\(set.body)")
            #expect(set.json["requests_per_second"]?.int == 2 && set.json["own_requests_per_second"] == .bool(true))

            // 2 a second, with a bucket of two seconds' worth: the first 4 at once pass, and of
            // 12 sent in a row at most 4 plus 2 for each second they took pass.
            let started = ContinuousClock.now
            var statuses: [Int] = []
            var refusal: APIResult?
            for _ in 0..<12 {
                let r = try await api.request(.get, "/v1/batches", key: client.key)
                statuses.append(r.status)
                if r.status == 429 && refusal == nil { refusal = r }
            }
            let seconds = Double((ContinuousClock.now - started).components.seconds) + 1
            #expect(Array(statuses.prefix(4)) == [200, 200, 200, 200])
            #expect(Double(statuses.filter { $0 == 200 }.count) <= 4 + 2 * seconds)
            let r = try #require(refusal)
            #expect(r.json["error", "code"]?.string == "rate_limited")
            #expect((r.json["error", "message"]?.string ?? "").contains("2 por segundo"))
            #expect(r.header("Retry-After") == "1")
            // Another client is not slowed by this one.
            let other = try await InProcessEsteira.client(runtime, name: "B", document: "11444777000161")
            #expect(try await api.request(.get, "/v1/batches", key: other.key).status == 200)

            let audit = try await InProcessEsteira.sql(runtime, "SELECT operator_name || ' ' || action || ' ' || after_value FROM audit_log WHERE action = 'client.quotas'")
            #expect(audit == #"Ana Admin client.quotas {"requests_per_second":"2","rows_per_day":null}"#)
        }
    }

    @Test("rows a day: an upload that would pass them is refused with 429 before anything is kept; blank lines given back when read; a single debt and a submission too",
          arguments: InProcessEsteira.dialects)
    func rowsPerDay(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            try await ClientStore(db: runtime.db).setQuotas(id: client.id, requestsPerSecond: nil, rowsPerDay: 5, by: .cli(user: "test"))
            let due = TestCalendar.day(months: -1)
            func file(_ ids: [String], blankLines: Int = 0) -> [UInt8] {
                Array(("id_divida;nome;cpf;valor;vencimento\n" + ids.map { "\($0);Ana;248.438.034-80;10,00;\(due)\n" }.joined()
                       + String(repeating: "\n", count: blankLines)).utf8)
            }
            func used() async throws -> Int? { try await api.request(.get, "/v1/quota", key: client.key).json["rows_received"]?.int }

            // A: 3 rows and a blank line: 4 lines past the header reserved, 3 kept once read.
            let a = try await api.upload(file(["A1", "A2", "A3"], blankLines: 1), key: client.key, name: "a.csv")
            // 4 until the file is read (the worker in this process may already have read it).
            #expect([3, 4].contains(try await used() ?? 0))
            let batchA = try await api.finishedBatch(a, key: client.key)
            #expect(batchA["counts", "received"]?.int == 3)
            #expect(try await used() == 3)

            // B: 3 more would make 6 of 5: refused, and nothing of it kept (no batch, no file).
            let b = try await api.request(.post, "/v1/batches?file_name=b.csv", key: client.key, bytes: file(["B1", "B2", "B3"]), contentType: "text/csv")
            #expect(b.status == 429)
            #expect(b.json["error", "code"]?.string == "quota_exceeded")
            #expect((b.json["error", "message"]?.string ?? "").contains("5 linhas"), "\(b.body)")
            // Until São Paulo's next midnight: at most a day away.
            let after = try #require(b.header("Retry-After").flatMap(Int.init))
            #expect(after >= 1 && after <= 86_400)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM batches") == "1")
            #expect(try await runtime.blobs.list(prefix: "raw/").count == 1)
            #expect(try await used() == 3)

            // C: 2 rows fit exactly.
            let c = try await api.upload(file(["C1", "C2"]), key: client.key, name: "c.csv")
            _ = try await api.finishedBatch(c, key: client.key)
            #expect(try await used() == 5)

            // Now nothing more: an upload is refused before its body is read, a single debt too.
            let d = try await api.request(.post, "/v1/batches", key: client.key, bytes: file(["D1"]), contentType: "text/csv")
            #expect(d.status == 429 && d.json["error", "code"]?.string == "quota_exceeded")
            let single = try await api.post("/v1/debts", key: client.key,
                                            json: #"{"external_id": "S1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}"#)
            #expect(single.status == 429 && single.json["error", "code"]?.string == "quota_exceeded")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts WHERE external_id = 'S1'") == "0")

            // A submission is counted when read: its batch fails with F015, nothing registered.
            let submission = try #require(try await api.request(.post, "/v1/submissions", key: client.key).json["id"]?.string)
            #expect(try await api.post("/v1/submissions/\(submission)/debts", key: client.key,
                                       json: #"[{"external_id": "E1", "name": "Ana", "document": "248.438.034-80", "amount": "10,00", "due_date": "\#(due)"}]"#).status == 200)
            let submitted = try await api.request(.post, "/v1/submissions/\(submission)/submit", key: client.key)
            let batchID = try #require(submitted.json["id"]?.string, "\(submitted.body)")
            let failed = try await api.finishedBatch(batchID, key: client.key)
            #expect(failed["status"]?.string == "failed" && failed["error_code"]?.string == "F015", "\(failed)")
            #expect((failed["error"]?.string ?? "").contains("cota diária"))
            #expect(try await used() == 5)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM debts") == "5")
        }
    }
}

import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The operators' blacklist routes, in process, on SQLite and on PostgreSQL.
@Suite("API contract, in process: operators keep the blacklist")
struct BlacklistAdminContractTests {
    @Test("an operator adds, changes, reads and removes entries, with their history; imports are all or none; keys do not cross",
          arguments: InProcessEsteira.dialects)
    func blacklist(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let client = try await InProcessEsteira.client(runtime)
            let op = try await OperatorStore(db: runtime.db).create(name: "Ana", role: .admin).apiKey
            // "op_" and 40 characters of key.
            #expect(op.hasPrefix("op_") && op.count == 43)

            // A client's key does not open the admin routes, nor an operator's the client's.
            #expect(try await api.request(.put, "/v1/admin/blacklist/52998224725", key: client.key, body: #"{"reason": "x"}"#).status == 401)
            #expect(try await api.get("/v1/batches", key: op).status == 401)

            // Masked or not, the same document; a reason is required; an invalid document is refused.
            #expect(try await api.request(.put, "/v1/admin/blacklist/529.982.247-25", key: op, body: #"{"reason": "fraude confirmada"}"#).status == 201)
            #expect(try await api.request(.put, "/v1/admin/blacklist/52998224725", key: op, body: #"{"reason": "fraude e ameaça"}"#).status == 200)
            #expect(try await api.request(.put, "/v1/admin/blacklist/52998224725", key: op, body: "{}").status == 422)
            #expect(try await api.request(.put, "/v1/admin/blacklist/52998224726", key: op, body: #"{"reason": "x"}"#).status == 422)
            let entry = try await api.get("/v1/admin/blacklist/52998224725", key: op).json
            #expect(entry["reason"]?.string == "fraude e ameaça")
            #expect(entry["history"]?.items.map { $0["action"]?.string ?? "" } == ["added", "changed"], "\(entry)")

            // An import with one bad line writes nothing and names the line; fixed, it writes all.
            let bad = "documento;motivo\n111.444.777-35;óbito\n111.444.777-36;erro de digitação\n11.222.333/0001-81;\n"
            let refused = try await api.request(.post, "/v1/admin/blacklist/import", key: op, body: bad, contentType: "text/csv")
            #expect(refused.status == 422)
            let issues = refused.json["error", "issues"]?.items.map { "\($0["line"]?.int ?? 0):\($0["code"]?.string ?? "")" }
            #expect(issues == ["3:B001", "4:B002"], "\(refused.body)")
            #expect(try await InProcessEsteira.sql(runtime, "SELECT COUNT(*) FROM blacklist") == "1")
            let good = "documento;motivo\n111.444.777-35;óbito\n529.982.247-25;fraude confirmada de novo\n"
            let imported = try await api.request(.post, "/v1/admin/blacklist/import", key: op, body: good, contentType: "text/csv")
            #expect(imported.status == 200)
            #expect(imported.json["added"]?.int == 1 && imported.json["changed"]?.int == 1, "\(imported.body)")

            #expect(try await api.request(.delete, "/v1/admin/blacklist/11144477735", key: op, body: #"{"reason": "homônimo"}"#).status == 204)
            #expect(try await api.request(.delete, "/v1/admin/blacklist/11144477735", key: op).status == 404)
            #expect(try await InProcessEsteira.sql(runtime, "SELECT document, action, reason FROM blacklist_log WHERE document = '11144477735' ORDER BY id") == """
                11144477735|added|óbito
                11144477735|removed|homônimo
                """)
        }
    }
}

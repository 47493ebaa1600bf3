import Foundation
import Testing

@Suite("End to end: operators keep the blacklist", .offSharedPool)
struct AdminEndToEndTests {
    @Test("an operator adds, changes, reads and removes entries, with their history; imports are all or none; keys do not cross")
    func blacklist() async throws {
        let server = try EsteiraProcess()
        defer { server.stop(); server.removeData() }
        let client = try server.createClient(name: "Loja", document: "11.222.333/0001-81")
        let made = try JSONSerialization.jsonObject(with: Data(try server.command(["operators", "create", "--name", "Ana", "--json"]).utf8))
        let op = try #require((made as? [String: String])?["api_key"])
        #expect(op.hasPrefix("op_") && op.count == 43)
        try server.start()
        func call(_ method: String, _ path: String, key: String, _ body: String? = nil, type: String = "application/json") async throws
            -> EsteiraProcess.HTTPResult {
            try await server.request(method, path, key: key, body: body.map { Data($0.utf8) }, contentType: body == nil ? nil : type)
        }

        // A client's key does not open the admin routes, nor an operator's the client's.
        #expect(try await call("PUT", "/v1/admin/blacklist/52998224725", key: client.key, #"{"reason": "x"}"#).status == 401)
        #expect(try await call("GET", "/v1/batches", key: op).status == 401)

        // Masked or not, the same document; a reason is required; an invalid document is refused.
        #expect(try await call("PUT", "/v1/admin/blacklist/529.982.247-25", key: op, #"{"reason": "fraude confirmada"}"#).status == 201)
        #expect(try await call("PUT", "/v1/admin/blacklist/52998224725", key: op, #"{"reason": "fraude e ameaça"}"#).status == 200)
        #expect(try await call("PUT", "/v1/admin/blacklist/52998224725", key: op, "{}").status == 422)
        #expect(try await call("PUT", "/v1/admin/blacklist/52998224726", key: op, #"{"reason": "x"}"#).status == 422)
        let entry = try await call("GET", "/v1/admin/blacklist/52998224725", key: op).object
        #expect(entry["reason"] as? String == "fraude e ameaça")
        #expect((entry["history"] as? [[String: Any]] ?? []).map { $0["action"] as? String ?? "" } == ["added", "changed"])

        // An import with one bad line writes nothing and names the line; fixed, it writes all.
        let bad = "documento;motivo\n111.444.777-35;óbito\n111.444.777-36;erro de digitação\n11.222.333/0001-81;\n"
        let refused = try await call("POST", "/v1/admin/blacklist/import", key: op, bad, type: "text/csv")
        #expect(refused.status == 422)
        let issues = ((refused.object["error"] as? [String: Any])?["issues"] as? [[String: Any]] ?? [])
            .map { "\($0["line"]!):\($0["code"]!)" }
        #expect(issues == ["3:B001", "4:B002"])
        #expect(try server.sql("SELECT COUNT(*) FROM blacklist") == "1")
        let good = "documento;motivo\n111.444.777-35;óbito\n529.982.247-25;fraude confirmada de novo\n"
        let imported = try await call("POST", "/v1/admin/blacklist/import", key: op, good, type: "text/csv")
        #expect(imported.status == 200)
        #expect(imported.object["added"] as? Int == 1 && imported.object["changed"] as? Int == 1)

        #expect(try await call("DELETE", "/v1/admin/blacklist/11144477735", key: op, #"{"reason": "homônimo"}"#).status == 204)
        #expect(try await call("DELETE", "/v1/admin/blacklist/11144477735", key: op).status == 404)
        #expect(try server.sql("SELECT document, action, reason FROM blacklist_log WHERE document = '11144477735' ORDER BY id") == """
            11144477735|added|óbito
            11144477735|removed|homônimo
            """)
        // The server's log never holds a whole document.
        #expect(!server.logs().contains("52998224725") && !server.logs().contains("529.982.247-25"))
    }
}

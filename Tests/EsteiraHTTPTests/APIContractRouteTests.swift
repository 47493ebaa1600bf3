import EsteiraApp
import EsteiraCore
import EsteiraStore
import EsteiraTestSupport
import Foundation
import Testing

/// The OpenAPI document served at `/openapi.json` and the routes the API answers are the same
/// set: a route added without its contract, or a contract left after its route went, fails here.
@Suite("API contract: the OpenAPI document and the routes agree")
struct APIContractRouteTests {
    @Test("every /v1 route is in the document, and every operation of the document is a route", arguments: InProcessEsteira.dialects)
    func routesMatch(dialect: SQLDialect) async throws {
        try await InProcessEsteira.with(dialect) { api, runtime in
            let router = EsteiraApplication.router(runtime, metrics: nil, risk: runtime.riskService())
            let routes = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" }.filter { $0.contains(" /v1/") })
            #expect(routes.count > 60, "\(routes.count) routes read from the router")

            let served = try await api.get("/openapi.json")
            #expect(served.status == 200 && served.header("Content-Type")?.hasPrefix("application/json") == true)
            let document = try JSONValue.parse(Array(served.body.utf8))
            #expect(document["openapi"]?.string == "3.1.0")
            var operations = Set<String>()
            var ids = Set<String>()
            for path in document["paths"]?.members ?? [] {
                for op in path.value.members ?? [] {
                    operations.insert("\(op.key.uppercased()) \(path.key)")
                    let id = op.value["operationId"]?.string ?? ""
                    #expect(ids.insert(id).inserted, "operationId \(id) repeats")
                    // Every operation answers errors as the shared schema.
                    #expect(op.value["responses"]?["default"]?["content"]?["application/json"]?["schema"]?["$ref"]?.string
                            == "#/components/schemas/Error", "\(op.key) \(path.key)")
                    // Each path parameter is declared.
                    let declared = Set((op.value["parameters"]?.elements ?? []).filter { $0["in"]?.string == "path" }.compactMap { $0["name"]?.string })
                    let inPath = Set(path.key.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) })
                    #expect(declared == inPath, "\(op.key) \(path.key): parameters \(declared.sorted()) for \(inPath.sorted())")
                }
            }
            #expect(routes.subtracting(operations).sorted() == [], "routes the document lacks")
            #expect(operations.subtracting(routes).sorted() == [], "operations no route answers")

            // The page: each operation's path on it, no script, its style allowed by the policy.
            let page = try await api.get("/docs")
            #expect(page.status == 200 && page.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(!page.body.contains("<script"))
            #expect(page.header("Content-Security-Policy")?.contains("style-src 'sha256-") == true)
            for op in operations { #expect(page.body.contains(String(op.split(separator: " ")[1])), "\(op) not on /docs") }
        }
    }
}

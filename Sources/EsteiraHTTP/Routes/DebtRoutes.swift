import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/debts`: the client's registered debts.
struct DebtRoutes {
    let db: any SQLDatabase
    var registry: DebtRegistry { DebtRegistry(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("debts", use: list)
        group.get("debts/:external_id", use: get)
    }

    @Sendable func get(_ request: Request, context: EsteiraRequestContext) async throws -> DebtResponse {
        let client = try context.requireClient()
        let raw = context.parameters.get("external_id") ?? ""
        let externalID = raw.removingPercentEncoding ?? raw
        guard let debt = try await registry.debt(clientNum: client.num, externalID: externalID) else {
            throw APIError.notFound("Dívida")
        }
        return DebtResponse(debt)
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ListResponse<DebtResponse> {
        let client = try context.requireClient()
        let paging = try Paging(request)
        let document = request.uri.queryParameters["document"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let page = try await registry.debts(clientNum: client.num, document: document, page: paging.page, perPage: paging.perPage)
        return ListResponse(page, DebtResponse.init)
    }
}

import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// A client's limits: what it may see of its own (`GET /v1/quota`), and what admins set
/// (`PUT /v1/admin/clients/{id}/quotas`).
struct QuotaRoutes {
    let db: any SQLDatabase
    let quotas: ClientQuotas

    func add(to v1: RouterGroup<EsteiraRequestContext>) {
        v1.get("quota") { _, context -> QuotaResponse in
            let client = try context.requireClient()
            return try await response(client)
        }
    }

    func addAdmin(to admin: RouterGroup<EsteiraRequestContext>) {
        admin.put("clients/:id/quotas") { request, context -> QuotaResponse in
            guard let op = context.operatorRecord else { throw APIError.unauthorized }
            let id = context.parameters.get("id") ?? ""
            let bytes = try await request.body.collect(atMost: 16 * 1024)
            guard let body = try? JSONDecoder().decode(QuotaBody.self, from: Data(bytes.readableBytesView)) else {
                throw APIError(.badRequest, code: "invalid_json",
                               message: "O corpo deve ser {\"requests_per_second\": 50 ou null, \"rows_per_day\": 1000000 ou null}; null volta ao padrão.")
            }
            if let rate = body.requestsPerSecond, !(1...1_000_000).contains(rate) {
                throw APIError(.unprocessableContent, code: "invalid_quota", message: "requests_per_second vai de 1 a 1.000.000.", field: "requests_per_second")
            }
            if let rows = body.rowsPerDay, rows < 1 {
                throw APIError(.unprocessableContent, code: "invalid_quota", message: "rows_per_day é um inteiro a partir de 1.", field: "rows_per_day")
            }
            do {
                try await ClientStore(db: db).setQuotas(id: id, requestsPerSecond: body.requestsPerSecond, rowsPerDay: body.rowsPerDay, by: .api(op))
            } catch is StoreError {
                throw APIError.notFound("Cliente")
            }
            guard let client = try await ClientStore(db: db).get(id: id) else { throw APIError.notFound("Cliente") }
            return try await response(client)
        }
    }

    struct QuotaBody: Decodable {
        var requestsPerSecond: Int?
        var rowsPerDay: Int?
        enum CodingKeys: String, CodingKey { case requestsPerSecond = "requests_per_second", rowsPerDay = "rows_per_day" }
    }

    struct QuotaResponse: ResponseEncodable, Sendable {
        var clientID: String
        var day: String
        var rowsReceived: Int
        var rowsPerDay: Int
        var requestsPerSecond: Int
        /// Whether each limit is the client's own or the agency's default.
        var ownRowsPerDay: Bool
        var ownRequestsPerSecond: Bool
        enum CodingKeys: String, CodingKey {
            case day
            case clientID = "client_id", rowsReceived = "rows_received", rowsPerDay = "rows_per_day", requestsPerSecond = "requests_per_second"
            case ownRowsPerDay = "own_rows_per_day", ownRequestsPerSecond = "own_requests_per_second"
        }
    }

    func response(_ client: ClientRecord) async throws -> QuotaResponse {
        let day = Day(Date(), in: Day.saoPaulo)
        return QuotaResponse(clientID: client.id, day: day.description, rowsReceived: try await ClientUsage.used(db, clientID: client.id, day: day),
                             rowsPerDay: quotas.rowsPerDay(client), requestsPerSecond: quotas.requestsPerSecond(client),
                             ownRowsPerDay: client.rowsPerDay != nil, ownRequestsPerSecond: client.requestsPerSecond != nil)
    }
}

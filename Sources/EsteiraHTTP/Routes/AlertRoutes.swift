import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// The agency's own alerts (a month's lake files late, a lake run failed), for operators:
/// `/v1/admin/alert-targets` says where they go (a webhook, signed like the clients', or an
/// e-mail address), `/v1/admin/alerts` lists what was sent, attempt by attempt.
struct AlertRoutes {
    let db: any SQLDatabase
    var store: NotificationStore { NotificationStore(db: db) }

    func addAdmin(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("alert-targets", use: create)
        group.get("alert-targets", use: list)
        group.delete("alert-targets/:id", use: delete)
        group.get("alerts", use: alerts)
    }

    struct TargetJSON: ResponseEncodable {
        var id: String
        var url: String?
        var address: String?
        var events: [String]
        var createdAt: String
        /// Only in the answer that creates a webhook target.
        var secret: String?

        enum CodingKeys: String, CodingKey { case id, url, address, events, createdAt = "created_at", secret }

        init(_ t: AlertTarget, secret: String? = nil) {
            id = t.id
            url = t.url
            address = t.address
            events = t.events.map(\.rawValue)
            createdAt = Timestamp.isoSeconds(t.createdAt)
            self.secret = secret
        }
    }

    struct CreateBody: Decodable {
        var url: String?
        var address: String?
        var events: [String]?
    }

    /// 201 with the target (a webhook's with its signing secret, shown only now); 422 naming the field.
    @Sendable func create(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let b = try? JSONDecoder().decode(CreateBody.self, from: Data(body.readableBytesView)), (b.url == nil) != (b.address == nil) else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: #"O corpo deve ser {"url": "https://…"} ou {"address": "operacao@agencia.com.br"}, com "events"?: ["lake.files_late", …]."#)
        }
        if let url = b.url { try NotificationRoutes.requireWebURL(url) }
        let address = try b.address.map(NotificationRoutes.requireEmail)
        let events = try NotificationRoutes.events(b.events, allowed: NotificationEvent.alertEvents, defaults: NotificationEvent.alertDefaults)
        let (target, secret) = try await store.createAlertTarget(url: b.url, address: address, events: events, by: context.operatorRecord.map(AuditActor.api))
        var response = try TargetJSON(target, secret: secret).response(from: request, context: context)
        response.status = .created
        return response
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<TargetJSON> {
        ItemsResponse(items: try await store.alertTargets().map { TargetJSON($0) })
    }

    @Sendable func delete(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        guard try await store.deleteAlertTarget(id: context.parameters.get("id") ?? "", by: context.operatorRecord.map(AuditActor.api)) else { throw APIError.notFound("Destino") }
        return Response(status: .noContent)
    }

    /// The latest alerts first, each with its attempts.
    @Sendable func alerts(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<NotificationRoutes.NotificationJSON> {
        ItemsResponse(items: try await store.alerts().map(NotificationRoutes.NotificationJSON.init))
    }
}

import EsteiraCore
import EsteiraNotify
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/webhooks` (the client's endpoints), `/v1/email-recipients` (the client's addresses) and
/// `/v1/notifications` (what was sent about a batch, attempt by attempt, and sending again).
struct NotificationRoutes {
    let db: any SQLDatabase
    /// Whether clients' webhooks may point at private, loopback and link-local addresses.
    var mayBePrivate = false
    var store: NotificationStore { NotificationStore(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("webhooks", use: create)
        group.get("webhooks", use: list)
        group.delete("webhooks/:id", use: delete)
        group.post("email-recipients", use: createRecipient)
        group.get("email-recipients", use: listRecipients)
        group.delete("email-recipients/:id", use: deleteRecipient)
        group.get("notifications", use: notifications)
        group.post("notifications/:id/redeliver", use: redeliver)
    }

    struct EndpointJSON: ResponseEncodable {
        var id: String
        var url: String
        var events: [String]
        var createdAt: String
        /// Only in the answer that creates the endpoint.
        var secret: String?

        enum CodingKeys: String, CodingKey { case id, url, events, createdAt = "created_at", secret }

        init(_ e: WebhookEndpoint, secret: String? = nil) {
            id = e.id
            url = e.url
            events = e.events.map(\.rawValue)
            createdAt = Timestamp.isoSeconds(e.createdAt)
            self.secret = secret
        }
    }

    struct CreateBody: Decodable {
        var url: String
        var events: [String]?
    }

    /// 201 with the endpoint and its signing secret (shown only now); 422 a URL that is not
    /// http(s), or an unknown event.
    @Sendable func create(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let b = try? JSONDecoder().decode(CreateBody.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json", message: #"O corpo deve ser {"url": "https://…", "events"?: ["batch.completed", …]}."#)
        }
        try Self.requireWebURL(b.url)
        if !mayBePrivate, let refusal = await WebhookDestination.check(url: b.url) {
            throw APIError(.unprocessableContent, code: "invalid_url", message: "URL recusada: \(refusal).", field: "url")
        }
        let (endpoint, secret) = try await store.createEndpoint(clientID: client.id, url: b.url, events: try Self.events(b.events))
        var response = try EndpointJSON(endpoint, secret: secret).response(from: request, context: context)
        response.status = .created
        return response
    }

    /// 422 `invalid_url` unless `url` is http(s) with a host: where a webhook can go.
    static func requireWebURL(_ url: String) throws {
        guard let u = URL(string: url), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host != nil else {
            throw APIError(.unprocessableContent, code: "invalid_url", message: "A URL deve começar com http:// ou https://.", field: "url")
        }
    }

    /// The address without surrounding spaces, or 422 `invalid_email`.
    static func requireEmail(_ address: String) throws -> String {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        guard EmailAddress.isWellFormed(trimmed) else {
            throw APIError(.unprocessableContent, code: "invalid_email", message: "O e-mail \(trimmed) não é válido.", field: "address")
        }
        return trimmed
    }

    /// The events named (all of `allowed` when none is), or 422 naming the unknown one.
    static func events(_ names: [String]?, allowed: [NotificationEvent] = NotificationEvent.clientEvents,
                       defaults: [NotificationEvent]? = nil) throws -> [NotificationEvent] {
        try (names ?? (defaults ?? allowed).map(\.rawValue)).map { name in
            guard let e = NotificationEvent(rawValue: name), allowed.contains(e) else {
                throw APIError(.unprocessableContent, code: "invalid_event",
                               message: "Evento \(name) desconhecido; use \(allowed.map(\.rawValue).joined(separator: ", ")).",
                               field: "events")
            }
            return e
        }
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<EndpointJSON> {
        let client = try context.requireClient()
        return ItemsResponse(items: try await store.endpoints(clientID: client.id).map { EndpointJSON($0) })
    }

    @Sendable func delete(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        guard try await store.deleteEndpoint(clientID: client.id, id: context.parameters.get("id") ?? "") else {
            throw APIError.notFound("Endpoint")
        }
        return Response(status: .noContent)
    }

    struct RecipientJSON: ResponseEncodable {
        var id: String
        var address: String
        var events: [String]
        var createdAt: String

        enum CodingKeys: String, CodingKey { case id, address, events, createdAt = "created_at" }

        init(_ r: EmailRecipient) {
            id = r.id
            address = r.address
            events = r.events.map(\.rawValue)
            createdAt = Timestamp.isoSeconds(r.createdAt)
        }
    }

    struct RecipientBody: Decodable {
        var address: String
        var events: [String]?
    }

    /// 201 with the address; 422 an address that is not one, or an unknown event.
    @Sendable func createRecipient(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let b = try? JSONDecoder().decode(RecipientBody.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: #"O corpo deve ser {"address": "financeiro@empresa.com.br", "events"?: ["batch.completed", …]}."#)
        }
        let address = try Self.requireEmail(b.address)
        let recipient = try await store.createRecipient(clientID: client.id, address: address, events: try Self.events(b.events, defaults: NotificationEvent.emailDefaults))
        var response = try RecipientJSON(recipient).response(from: request, context: context)
        response.status = .created
        return response
    }

    @Sendable func listRecipients(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<RecipientJSON> {
        let client = try context.requireClient()
        return ItemsResponse(items: try await store.recipients(clientID: client.id).map(RecipientJSON.init))
    }

    @Sendable func deleteRecipient(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        guard try await store.deleteRecipient(clientID: client.id, id: context.parameters.get("id") ?? "") else {
            throw APIError.notFound("Destinatário")
        }
        return Response(status: .noContent)
    }

    struct NotificationJSON: Encodable {
        struct Attempt: Encodable {
            var at: String
            var statusCode: Int?
            var error: String?
            var durationMs: Int
            enum CodingKeys: String, CodingKey { case at, statusCode = "status_code", error, durationMs = "duration_ms" }
        }
        var id: Int
        var batchID: String
        var event: String
        var channel: String
        var endpointID: String
        var url: String?
        var address: String?
        var state: String
        var createdAt: String
        var deliveredAt: String?
        var nextAttemptAt: String?
        var attempts: [Attempt]

        enum CodingKeys: String, CodingKey {
            case id, batchID = "batch_id", event, channel, endpointID = "endpoint_id", url, address, state, createdAt = "created_at",
                 deliveredAt = "delivered_at", nextAttemptAt = "next_attempt_at", attempts
        }

        init(_ n: NotificationRecord) {
            id = n.id
            batchID = n.batchID
            event = n.event
            channel = n.channel
            endpointID = n.endpointID
            url = n.url
            address = n.address
            state = n.state
            createdAt = Timestamp.isoSeconds(n.createdAt)
            deliveredAt = n.deliveredAt.map(Timestamp.isoSeconds)
            nextAttemptAt = n.state == "pending" ? Timestamp.isoSeconds(n.nextAt) : nil
            attempts = n.attempts.map {
                .init(at: Timestamp.isoSeconds($0.at), statusCode: $0.statusCode, error: $0.error, durationMs: $0.durationMs)
            }
        }
    }

    /// `?batch=<id>`: the batch's notifications, each with every attempt (when, the answer's
    /// status or the error, how long).
    @Sendable func notifications(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<NotificationJSON> {
        let client = try context.requireClient()
        guard let batch = request.uri.queryParameters["batch"].map(String.init), !batch.isEmpty else {
            throw APIError.invalidParameter("batch", "informe o id do lote")
        }
        return ItemsResponse(items: try await store.list(clientID: client.id, batchID: batch).map(NotificationJSON.init))
    }

    /// 202: the notification goes out again now, whatever became of it before.
    @Sendable func redeliver(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        guard let id = context.parameters.get("id").flatMap(Int.init),
              try await store.redeliver(clientID: client.id, id: id) else { throw APIError.notFound("Notificação") }
        return Response(status: .accepted)
    }
}

struct ItemsResponse<Item: Encodable & Sendable>: ResponseEncodable, Sendable {
    var items: [Item]
}

import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// Named API keys: a client's own (`/v1/keys`) and, for admins, any client's and operator's
/// (`/v1/admin/clients/{id}/keys`, `/v1/admin/operators/{id}/keys`). A new key's secret is in
/// the answer that issues it and nowhere else, ever.
struct KeyRoutes {
    let db: any SQLDatabase
    var keys: KeyStore { KeyStore(db: db) }

    /// The most days a key may be issued for, and the longest overlap of a rotation.
    static let maxDays = 3650
    static let maxOverlapHours = 24 * 90

    func add(to v1: RouterGroup<EsteiraRequestContext>) {
        v1.get("keys") { _, context in try await list(.client, try context.requireClient().id) }
        v1.post("keys") { request, context in
            let client = try context.requireClient()
            return try await issue(request, .client, client.id, by: AuditActor(operatorID: nil, name: "client:\(client.id)", channel: "api"))
        }
        v1.delete("keys/:key") { _, context in
            let client = try context.requireClient()
            return try await revoke(.client, client.id, context, by: AuditActor(operatorID: nil, name: "client:\(client.id)", channel: "api"))
        }
    }

    func addAdmin(to admin: RouterGroup<EsteiraRequestContext>) {
        for (path, owner) in [("clients", KeyOwner.client), ("operators", KeyOwner.operator)] {
            admin.get("\(path)/:id/keys") { _, context in try await list(owner, context.parameters.get("id") ?? "") }
            admin.post("\(path)/:id/keys") { request, context in
                guard let op = context.operatorRecord else { throw APIError.unauthorized }
                return try await issue(request, owner, context.parameters.get("id") ?? "", by: .api(op))
            }
            admin.delete("\(path)/:id/keys/:key") { _, context in
                guard let op = context.operatorRecord else { throw APIError.unauthorized }
                return try await revoke(owner, context.parameters.get("id") ?? "", context, by: .api(op))
            }
        }
    }

    struct KeyResponse: Encodable, Sendable {
        var id: String
        var name: String
        /// The secret's last four characters.
        var hint: String
        var createdAt: String
        var expiresAt: String?
        var lastUsedAt: String?
        var revokedAt: String?
        var live: Bool

        enum CodingKeys: String, CodingKey {
            case id, name, hint, live
            case createdAt = "created_at", expiresAt = "expires_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at"
        }

        init(_ k: APIKeyRecord, now: Date = Date()) {
            id = k.id
            name = k.name
            hint = "…" + k.hint
            createdAt = Timestamp.isoSeconds(k.createdAt)
            expiresAt = k.expiresAt.map(Timestamp.isoSeconds)
            lastUsedAt = k.lastUsedAt.map(Timestamp.isoSeconds)
            revokedAt = k.revokedAt.map(Timestamp.isoSeconds)
            live = k.live(at: now)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(name, forKey: .name)
            try c.encode(hint, forKey: .hint)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(expiresAt, forKey: .expiresAt)
            try c.encode(lastUsedAt, forKey: .lastUsedAt)
            try c.encode(revokedAt, forKey: .revokedAt)
            try c.encode(live, forKey: .live)
        }
    }

    struct KeyList: ResponseEncodable, Sendable { var items: [KeyResponse] }

    struct Issued: Encodable, Sendable {
        var key: KeyResponse
        var apiKey: String
        enum CodingKeys: String, CodingKey { case key, apiKey = "api_key" }
    }

    /// `{"name": "…", "expires_in_days": N?, "rotate": "<key id>"?, "overlap_hours": H?}`.
    struct IssueBody: Decodable {
        var name: String?
        var expiresInDays: Int?
        var rotate: String?
        var overlapHours: Int?
        enum CodingKeys: String, CodingKey {
            case name, rotate
            case expiresInDays = "expires_in_days", overlapHours = "overlap_hours"
        }
    }

    func list(_ owner: KeyOwner, _ ownerID: String) async throws -> KeyList {
        try await exists(owner, ownerID)
        return KeyList(items: try await keys.list(owner: owner, ownerID: ownerID).map { KeyResponse($0) })
    }

    func exists(_ owner: KeyOwner, _ ownerID: String) async throws {
        let found = owner == .client ? try await ClientStore(db: db).get(id: ownerID) != nil : try await OperatorStore(db: db).get(id: ownerID) != nil
        guard found else { throw APIError.notFound(owner == .client ? "Cliente" : "Operador") }
    }

    func issue(_ request: Request, _ owner: KeyOwner, _ ownerID: String, by actor: AuditActor) async throws -> Response {
        let bytes = try await request.body.collect(atMost: 16 * 1024)
        guard let body = try? JSONDecoder().decode(IssueBody.self, from: Data(bytes.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: "O corpo deve ser {\"name\": \"…\", \"expires_in_days\": 90, \"rotate\": \"k_…\", \"overlap_hours\": 24}; só name é obrigatório.")
        }
        let name = (body.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...80).contains(name.count) else {
            throw APIError(.unprocessableContent, code: "invalid_name", message: "Dê à chave um nome de 1 a 80 caracteres.", field: "name")
        }
        if let days = body.expiresInDays, !(1...Self.maxDays).contains(days) {
            throw APIError(.unprocessableContent, code: "invalid_expiry", message: "expires_in_days vai de 1 a \(Self.maxDays).", field: "expires_in_days")
        }
        if let hours = body.overlapHours {
            guard body.rotate != nil else {
                throw APIError(.unprocessableContent, code: "invalid_overlap", message: "overlap_hours só vale com rotate.", field: "overlap_hours")
            }
            guard (0...Self.maxOverlapHours).contains(hours) else {
                throw APIError(.unprocessableContent, code: "invalid_overlap", message: "overlap_hours vai de 0 a \(Self.maxOverlapHours).",
                               field: "overlap_hours")
            }
        }
        try await exists(owner, ownerID)
        let now = Date()
        guard let (key, secret) = try await keys.issue(
            owner: owner, ownerID: ownerID, name: name, expiresAt: body.expiresInDays.map { now.addingTimeInterval(Double($0) * 86_400) },
            rotating: body.rotate, overlap: Double(body.overlapHours ?? 24) * 3600, by: actor, now: now)
        else {
            if body.rotate != nil {
                throw APIError(.unprocessableContent, code: "invalid_rotate", message: "A chave \(body.rotate ?? "") não é uma chave válida deste titular.",
                               field: "rotate")
            }
            throw APIError(.conflict, code: "deactivated", message: "O titular está desativado; não recebe chaves.")
        }
        var response = try Response.json(.created, Issued(key: KeyResponse(key, now: now), apiKey: secret))
        // The secret is in this answer only: no cache may keep it.
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func revoke(_ owner: KeyOwner, _ ownerID: String, _ context: EsteiraRequestContext, by actor: AuditActor) async throws -> Response {
        guard try await keys.revoke(owner: owner, ownerID: ownerID, keyID: context.parameters.get("key") ?? "", by: actor) else {
            throw APIError.notFound("Chave")
        }
        return Response(status: .noContent)
    }
}

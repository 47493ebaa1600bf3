import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// The request context: who is calling, once the key has been checked.
public struct EsteiraRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var client: ClientRecord?
    /// The operator, on the admin routes.
    public var operatorRecord: OperatorRecord?
    /// The peer's IP address (a proxy's, behind one: `SignInGuard.address` reads past it).
    public let remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        client = nil
        operatorRecord = nil
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// JSON with keys in a stable order, so answers read the same every time.
    public var responseEncoder: some ResponseEncoder {
        APIResponseEncoder()
    }

    /// The caller; routes under `/v1` run behind `AuthMiddleware`, so it is always there.
    public func requireClient() throws -> ClientRecord {
        guard let client else { throw APIError.unauthorized }
        return client
    }
}

/// Checks `Authorization: Bearer <operator key>` on the admin routes; anything else is a 401.
struct OperatorAuthMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    let operators: OperatorStore
    let keys: KeyKeeper

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let key = try AuthMiddleware.bearerKey(request)
        let address = keys.guardian.address(request, context)
        try keys.guardian.check(address)
        guard let (op, match) = try await operators.match(apiKey: key) else {
            await keys.failed(address, channel: "api")
            throw APIError.unauthorized
        }
        try keys.checkExpiry(match)
        let needed = Self.role(needed: request)
        guard op.role.allows(needed) else { throw APIError.forbidden(role: op.role, needed: needed) }
        var context = context
        context.operatorRecord = op
        context.logger[metadataKey: "operator_id"] = "\(op.id)"
        return try await next(request, context)
    }

    /// The role a request needs: reading takes a viewer; acting, an operator; managing clients
    /// and operators, an admin. One rule for every route, so that a new route cannot forget it.
    static func role(needed request: Request) -> OperatorRole {
        if request.method == .get || request.method == .head { return .viewer }
        let path = request.uri.path
        // A debtor's data, read whole or erased, is for admins alone.
        if path.hasPrefix("/v1/admin/clients") || path.hasPrefix("/v1/admin/operators") || path.hasPrefix("/v1/admin/privacy") { return .admin }
        return .operator
    }
}

/// Checks `Authorization: Bearer <key>`; a missing, unknown or revoked key is a 401, an expired
/// one a 401 that says so.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    /// Key checks that arrive together share one query (`Batcher`): under load, one query each
    /// was a trip through the database's thread per request.
    let lookup: Batcher<String, (ClientRecord, KeyMatch)?>
    let keys: KeyKeeper
    let quotas: ClientQuotas

    init(clients: ClientStore, keys: KeyKeeper, quotas: ClientQuotas) {
        lookup = Batcher(maxBatch: 200) { hashes in try await clients.clients(keyHashes: hashes) }
        self.keys = keys
        self.quotas = quotas
    }

    /// The key of `Authorization: Bearer <key>`, or 401.
    static func bearerKey(_ request: Request) throws -> String {
        // Byte by byte: this runs on every request.
        guard let header = request.headers[.authorization]?.utf8, header.count > 7,
              header.prefix(7).map({ $0 | 0x20 }).elementsEqual("bearer ".utf8) else {
            throw APIError.unauthorized
        }
        let key = header.dropFirst(7).drop { $0 == 0x20 || $0 == 0x09 }
        let trimmed = key.reversed().drop { $0 == 0x20 || $0 == 0x09 }.count
        guard trimmed > 0 else { throw APIError.unauthorized }
        return String(decoding: key.prefix(trimmed), as: UTF8.self)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let key = try Self.bearerKey(request)
        let address = keys.guardian.address(request, context)
        try keys.guardian.check(address)
        guard let (client, match) = try await lookup.submit(ClientStore.hash(apiKey: key)) else {
            await keys.failed(address, channel: "api")
            throw APIError.unauthorized
        }
        try keys.checkExpiry(match)
        try quotas.take(client)
        var context = context
        context.client = client
        context.logger[metadataKey: "client_id"] = "\(client.id)"
        return try await next(request, context)
    }
}

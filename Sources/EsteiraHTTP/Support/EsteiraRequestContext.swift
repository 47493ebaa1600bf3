import EsteiraStore
import Foundation
import Hummingbird

/// The request context: who is calling, once the key has been checked.
public struct EsteiraRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var client: ClientRecord?

    public init(source: Source) {
        coreContext = .init(source: source)
        client = nil
    }

    /// JSON with keys in a stable order, so answers read the same every time.
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The caller; routes under `/v1` run behind `AuthMiddleware`, so it is always there.
    public func requireClient() throws -> ClientRecord {
        guard let client else { throw APIError.unauthorized }
        return client
    }
}

/// Checks `Authorization: Bearer <key>`; a missing, unknown or revoked key is a 401.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = EsteiraRequestContext
    let clients: ClientStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthorized
        }
        let key = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty, let client = try await clients.authenticate(apiKey: key) else { throw APIError.unauthorized }
        var context = context
        context.client = client
        context.logger[metadataKey: "client_id"] = "\(client.id)"
        return try await next(request, context)
    }
}

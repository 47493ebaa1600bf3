import Foundation
import Hummingbird

/// An error the API answers with: a status, a stable code and a Portuguese message, as
/// `{"error": {"code": ..., "message": ...}}`. Anything else thrown becomes a 500 that says nothing
/// internal; the log has the detail.
public struct APIError: HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The request field concerned, when one is.
    public var field: String?
    /// Every problem found, when a request has several (one per entry of a ledger request).
    public var issues: [Issue]?

    public struct Issue: Encodable, Sendable {
        public var index: Int?
        public var field: String
        public var code: String
        public var message: String

        public init(index: Int? = nil, field: String, code: String, message: String) {
            self.index = index
            self.field = field
            self.code = code
            self.message = message
        }
    }

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, issues: [Issue]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.issues = issues
    }

    public static let unauthorized = APIError(.unauthorized, code: "unauthorized",
                                              message: "Chave de API ausente ou inválida. Envie Authorization: Bearer <chave>.")
    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) não encontrado.")
    }
    public static func invalidParameter(_ name: String, _ detail: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", message: "Parâmetro \(name) inválido: \(detail)")
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
            var issues: [Issue]?
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try APIJSON.encode(Body(error: .init(code: code, message: message, field: field, issues: issues)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns errors that are not `HTTPResponseError` into a plain 500 JSON body, after logging them.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, code: "internal", message: "Erro interno. Tente novamente; se persistir, informe o trace_id.")
        }
    }
}

/// Paging parameters: `page` from 1, `per_page` from 1 to 500 (default 50).
struct Paging {
    var page: Int
    var perPage: Int

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        page = 1
        perPage = 50
        if let p = query["page"] {
            guard let v = Int(String(p)), v >= 1 else { throw APIError.invalidParameter("page", "use um inteiro a partir de 1.") }
            page = v
        }
        if let p = query["per_page"] {
            guard let v = Int(String(p)), (1...500).contains(v) else {
                throw APIError.invalidParameter("per_page", "use um inteiro de 1 a 500.")
            }
            perPage = v
        }
    }
}

import EsteiraCore
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
    /// Seconds after which a refused request may be tried again (`Retry-After`), with a 429.
    public var retryAfter: Int?

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
    /// An operator whose role does not allow the request: 403, naming both roles.
    public static func forbidden(role: OperatorRole, needed: OperatorRole) -> APIError {
        APIError(.forbidden, code: "forbidden",
                 message: "O seu papel (\(role.portugueseName)) não permite esta ação; ela pede o papel \(needed.portugueseName).")
    }
    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) não encontrado.")
    }
    /// A body past what the route takes: 413, saying the limit.
    public static func tooLarge(_ limit: Int, hint: String = "") -> APIError {
        let size = limit >= 1 << 20 ? "\(limit >> 20) MiB" : "\(limit >> 10) KiB"
        return APIError(.contentTooLarge, code: "too_large", message: "O corpo passa do limite de \(size) desta rota.\(hint.isEmpty ? "" : " " + hint)")
    }
    /// Hummingbird's own errors carry no body; every error the API answers is JSON with a code
    /// and a Portuguese message, so each status gets one.
    static func from(_ error: any HTTPResponseError) -> APIError {
        switch error.status {
        case .contentTooLarge: return APIError(.contentTooLarge, code: "too_large", message: "O corpo passa do limite desta rota.")
        case .notFound: return APIError(.notFound, code: "not_found", message: "Caminho não encontrado.")
        case .methodNotAllowed: return APIError(.methodNotAllowed, code: "method_not_allowed", message: "Método não permitido neste caminho.")
        case .unsupportedMediaType: return APIError(.unsupportedMediaType, code: "unsupported_media_type", message: "Tipo de conteúdo não aceito.")
        case .badRequest: return APIError(.badRequest, code: "bad_request", message: "Requisição malformada.")
        default:
            let code = error.status.code
            return APIError(error.status, code: code >= 500 ? "internal" : "http_\(code)",
                            message: code >= 500 ? "Erro interno. Tente novamente; se persistir, informe o trace_id." : "Requisição recusada (\(code)).")
        }
    }
    /// 429 with `Retry-After`: too many requests, failures or rows; `message` says which and when.
    public static func tooMany(_ code: String, retryAfter: Int, _ message: String) -> APIError {
        var error = APIError(.tooManyRequests, code: code, message: message)
        error.retryAfter = retryAfter
        return error
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
        if let retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Every error as a JSON body with a code and a Portuguese message: Hummingbird's own (which carry
/// none) by their status, a body the client sent broken as 400, anything else as a 500 that says
/// nothing internal, after logging it.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            if error.status.code >= 500 { context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"]) }
            throw APIError.from(error)
        } catch let error where RequestBodyError.isClientsFault(error) {
            // A chunk size that is not hexadecimal, a body cut before its Content-Length: the
            // client's fault, told to it, and not an error of the server's.
            context.logger.notice("request body unreadable", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.badRequest, code: "invalid_body", message: "O corpo da requisição chegou malformado ou incompleto.")
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

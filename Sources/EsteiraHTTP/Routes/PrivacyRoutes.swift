import EsteiraCore
import EsteiraPipeline
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/admin/privacy`: a debtor's rights under LGPD art. 18, for admins. The document travels
/// in the body, never in the path or query, so that no access log holds it.
struct PrivacyRoutes {
    let privacy: DebtorPrivacy

    func addAdmin(to admin: RouterGroup<EsteiraRequestContext>) {
        admin.post("privacy/report") { request, context -> Response in
            let document = try await Self.document(request)
            let report = try await privacy.report(document: document)
            context.logger.info("privacy report", metadata: ["document": "\(document.masked)"])
            return try Response.json(.ok, report)
        }
        admin.post("privacy/erasure") { request, context -> Response in
            guard let op = context.operatorRecord else { throw APIError.unauthorized }
            let document = try await Self.document(request)
            switch try await privacy.erase(document: document, actor: .api(op)) {
            case .erased(let report):
                context.logger.notice("privacy erasure", metadata: ["document": "\(document.masked)"])
                return try Response.json(.ok, report)
            case .refused(let refusals):
                throw Self.refused(refusals)
            }
        }
    }

    struct Body: Decodable { var document: String }

    static func document(_ request: Request) async throws -> TaxID {
        let bytes = try await request.body.collect(atMost: 4 * 1024)
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(bytes.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json", message: "O corpo deve ser {\"document\": \"CPF ou CNPJ\"}.")
        }
        guard case .success(let id) = TaxID.parse(body.document) else {
            throw APIError(.unprocessableContent, code: "invalid_document", message: "O documento não é um CPF ou CNPJ válido.", field: "document")
        }
        return id
    }

    /// 409 `erasure_refused`, with one issue per debt that holds the erasure back.
    static func refused(_ refusals: [DebtorPrivacy.Refusal]) -> APIError {
        APIError(.conflict, code: "erasure_refused",
                 message: "O titular ainda não pode ser anonimizado: há dívidas em aberto ou encerradas há menos do que o prazo de guarda.",
                 issues: refusals.map { r in
                     APIError.Issue(field: "\(r.clientID)/\(r.externalID)", code: r.reason.rawValue, message: r.portugueseMessage)
                 })
    }
}

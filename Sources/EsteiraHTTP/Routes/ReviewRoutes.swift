import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// `POST /v1/admin/reviews`: operators decide debts the risk rules flagged (docs/portfolio.md).
struct ReviewRoutes {
    let db: any SQLDatabase
    static let maxDecisions = 500

    func addAdmin(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("reviews", use: decide)
    }

    struct DecidedJSON: Encodable {
        var clientID: String
        var externalID: String
        var status: String
        enum CodingKeys: String, CodingKey { case clientID = "client_id", externalID = "external_id", status }
    }

    /// `{"decisions": [{"client_id", "external_id", "decision": "approve" | "reject", "note"?}]}`, 1 to
    /// 500: 200 with each debt's new status; all or nothing, 422 `invalid_decisions` with every
    /// problem by its index (`invalid_decision`, `invalid_note`, `not_found`, `not_in_review`, `repeated`).
    @Sendable func decide(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<DecidedJSON> {
        guard let op = context.operatorRecord else { throw APIError.unauthorized }
        let body = try await request.body.collect(atMost: 256 * 1024)
        let shape = #"O corpo deve ser {"decisions": [{"client_id": "…", "external_id": "…", "decision": "approve" ou "reject", "note"?: "…"}]}."#
        guard let json = try? JSONValue.parse(body.readableBytesView), let items = json["decisions"]?.elements else {
            throw APIError(.badRequest, code: "invalid_json", message: shape)
        }
        guard (1...Self.maxDecisions).contains(items.count) else {
            throw APIError(.unprocessableContent, code: "invalid_decisions", message: "Envie de 1 a \(Self.maxDecisions) decisões por pedido.",
                           field: "decisions")
        }
        var issues: [APIError.Issue] = []
        var decisions: [ReviewDecisionRequest] = []
        for (i, item) in items.enumerated() {
            let word = item["decision"]?.string ?? ""
            guard let decision = ReviewDecision(rawValue: word) else {
                issues.append(.init(index: i, field: "decision", code: "invalid_decision", message: "Decisão \(word.prefix(20)) desconhecida; use approve ou reject."))
                continue
            }
            let note = item["note"]?.string
            if let note, note.count > 500 || ControlCharacters.first(in: note) != nil {
                issues.append(.init(index: i, field: "note", code: "invalid_note", message: "A observação tem até 500 caracteres, sem caracteres de controle."))
                continue
            }
            decisions.append(ReviewDecisionRequest(clientID: item["client_id"]?.string ?? "", externalID: item["external_id"]?.string ?? "",
                                                   decision: decision, note: note))
        }
        guard issues.isEmpty else { throw Self.refused(issues) }
        do {
            let statuses = try await DebtReviews(db: db).decide(decisions, by: .api(op))
            context.logger.info("reviews decided", metadata: ["decisions": "\(decisions.count)"])
            return ItemsResponse(items: zip(decisions, statuses).map {
                DecidedJSON(clientID: $0.clientID, externalID: $0.externalID, status: $1.rawValue)
            })
        } catch let refusal as ReviewRefusal {
            throw Self.refused(refusal.issues.map { .init(index: $0.index, field: "external_id", code: $0.code, message: $0.message) })
        }
    }

    static func refused(_ issues: [APIError.Issue]) -> APIError {
        APIError(.unprocessableContent, code: "invalid_decisions", message: "Nenhuma decisão foi aplicada: corrija as listadas.", issues: issues)
    }
}

import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// A registered debt's life after registration (docs/portfolio.md): its withdrawal (baixa) and
/// its history.
struct PortfolioRoutes {
    let db: any SQLDatabase

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("debts/:external_id/withdrawal", use: withdraw)
        group.get("debts/:external_id/history", use: history)
    }

    func externalID(_ context: EsteiraRequestContext) -> String {
        let raw = context.parameters.get("external_id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    struct WithdrawalJSON: ResponseEncodable {
        var externalID: String
        var status: String
        /// True when the debt had been withdrawn already: nothing changed.
        var duplicate: Bool
        @Nullable var cancelledSlip: Int64?
        enum CodingKeys: String, CodingKey { case externalID = "external_id", status, duplicate, cancelledSlip = "cancelled_slip" }
    }

    /// `{"reason": "pago_ao_credor", "note"?: "…"}`: 200 with the debt withdrawn and the slip it
    /// cancelled; again for a debt already withdrawn, `duplicate` true; 404 no such debt; 422
    /// `invalid_reason` (the reasons listed) or `invalid_note` (over 500 characters).
    @Sendable func withdraw(_ request: Request, context: EsteiraRequestContext) async throws -> WithdrawalJSON {
        let client = try context.requireClient()
        let externalID = externalID(context)
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let o = try? JSONValue.parse(body.readableBytesView), o.members != nil else {
            throw APIError(.badRequest, code: "invalid_json", message: #"O corpo deve ser {"reason": "pago_ao_credor", "note"?: "…"}."#)
        }
        let reasonText = o["reason"]?.string ?? ""
        guard let reason = WithdrawalReason(rawValue: reasonText) else {
            throw APIError(.unprocessableContent, code: "invalid_reason",
                           message: "Motivo de baixa \(reasonText.prefix(40)) desconhecido; use um de: \(WithdrawalReason.listed).", field: "reason")
        }
        let note = o["note"]?.string
        if let note, note.count > 500 || ControlCharacters.first(in: note) != nil {
            throw APIError(.unprocessableContent, code: "invalid_note", message: "A observação tem até 500 caracteres, sem caracteres de controle.",
                           field: "note")
        }
        do {
            let outcome = try await DebtWithdrawals(db: db).withdraw(clientNum: client.num, externalID: externalID, reason: reason,
                                                                     note: note, actor: client.eventActor)
            return WithdrawalJSON(externalID: externalID, status: DebtWithdrawals.status, duplicate: outcome.duplicate,
                                  cancelledSlip: outcome.cancelledSlip)
        } catch StoreError.notFound {
            throw APIError.notFound("Dívida")
        }
    }

    struct EventJSON: Encodable {
        var kind: String
        var at: String
        var actor: DebtEventActor
        var details: RawJSON
    }

    @Sendable func history(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<EventJSON> {
        let client = try context.requireClient()
        guard let events = try await DebtHistory(db: db).events(clientNum: client.num, externalID: externalID(context)) else {
            throw APIError.notFound("Dívida")
        }
        return ItemsResponse(items: events.map {
            EventJSON(kind: $0.kind.rawValue, at: Timestamp.iso($0.at), actor: $0.actor, details: RawJSON(text: $0.details))
        })
    }
}

extension ClientRecord {
    /// This client's key as the actor of a change it asked for through the API.
    var eventActor: DebtEventActor { DebtEventActor(kind: .apiKey, id: "…" + (apiKeyHint ?? "")) }
}

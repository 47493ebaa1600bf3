import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// A registered debt's life after registration (docs/portfolio.md): its withdrawal (baixa) and
/// its history.
struct PortfolioRoutes {
    let db: any SQLDatabase

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.patch("debts/:external_id", use: correct)
        group.post("debts/:external_id/withdrawal", use: withdraw)
        group.get("debts/:external_id/history", use: history)
        group.get("portfolio", use: settings)
        group.put("portfolio", use: saveSettings)
    }

    struct SettingsJSON: ResponseEncodable, Decodable {
        /// Whether a full-portfolio file withdraws the open debts it leaves out.
        var withdrawMissing: Bool
        enum CodingKeys: String, CodingKey { case withdrawMissing = "withdraw_missing" }
    }

    @Sendable func settings(_ request: Request, context: EsteiraRequestContext) async throws -> SettingsJSON {
        let client = try context.requireClient()
        return SettingsJSON(withdrawMissing: try await ClientStore(db: db).withdrawsMissing(clientID: client.id))
    }

    /// `{"withdraw_missing": true}`: the client's full-portfolio files withdraw the open debts they
    /// leave out (reason `ausente_da_carteira`); false, the default, only lists them.
    @Sendable func saveSettings(_ request: Request, context: EsteiraRequestContext) async throws -> SettingsJSON {
        let client = try context.requireClient()
        let bytes = Data(try await request.body.collect(atMost: 4096).readableBytesView)
        guard let sent = try? JSONDecoder().decode(SettingsJSON.self, from: bytes) else {
            throw APIError(.badRequest, code: "invalid_json", message: "O corpo deve ser {\"withdraw_missing\": true} ou false.")
        }
        try await ClientStore(db: db).setWithdrawsMissing(clientID: client.id, sent.withdrawMissing)
        return sent
    }

    func externalID(_ context: EsteiraRequestContext) -> String {
        let raw = context.parameters.get("external_id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    struct CorrectionJSON: ResponseEncodable {
        var debt: DebtResponse
        /// The fields the correction changed; none when it matched what was registered.
        var changed: [String]
        var duplicate: Bool
    }

    /// A JSON object with any of the debt's fields (the names and aliases of `POST /v1/debts`):
    /// the amount, due date, name, e-mail, phone and description are corrected; the document and
    /// the external id, when sent, must be the debt's. The result is validated as a whole debt:
    /// 422 with every problem (R-codes; R016 another document, R017 an amount below what was
    /// paid), 409 `debt_closed` for a debt out of collection, 404 no such debt; 200 with the debt
    /// and the fields changed (none: a duplicate).
    @Sendable func correct(_ request: Request, context: EsteiraRequestContext) async throws -> CorrectionJSON {
        let client = try context.requireClient()
        let externalID = externalID(context)
        let bytes = Array(try await request.body.collect(atMost: 64 * 1024).readableBytesView)
        let sent = try SingleDebtJSON.debtFields(bytes)
        if let id = sent[.externalID], id != externalID {
            throw APIError(.badRequest, code: "invalid_json", message: "O external_id do corpo (\(id.prefix(40))) não é o da dívida no caminho.")
        }
        let registry = DebtRegistry(db: db)
        guard let current = try await registry.debt(clientNum: client.num, externalID: externalID)?.debt else {
            throw APIError.notFound("Dívida")
        }
        var values: [DebtField: String] = [
            .externalID: current.externalID, .name: current.name, .document: current.document.value,
            .amount: Money.decimalString(cents: current.amountCents), .dueDate: current.dueDate.iso,
            .email: current.email ?? "", .phone: current.phone ?? "", .description: current.description ?? "",
        ]
        values.merge(sent) { $1 }
        let corrected: Debt
        switch DebtValidator(receivedOn: Day(Date(), in: Day.saoPaulo)).validate(ParsedRow(line: 1, values: values)) {
        case .valid(let debt), .correction(let debt): corrected = debt
        case .withdrawal: throw SingleDebtJSON.operationNotHere(.operation)
        case .invalid(let issues):
            let first = issues[0]
            throw APIError(.unprocessableContent, code: first.code.rawValue, message: first.message, field: first.field?.rawValue,
                           issues: issues.map { .init(field: $0.field?.rawValue ?? "", code: $0.code.rawValue, message: $0.message) })
        }
        let outcome: CorrectionOutcome
        do {
            outcome = try await DebtCorrections(db: db).correct(clientNum: client.num, to: corrected, actor: client.eventActor)
        } catch StoreError.notFound {
            throw APIError.notFound("Dívida")
        } catch let refusal as CorrectionRefusal {
            if case .outOfCollection(let status) = refusal { throw Self.closed(status) }
            let refused = refusal.reject(of: corrected)
            throw APIError(.unprocessableContent, code: refused.code.rawValue, message: refused.message, field: refused.field.rawValue,
                           issues: [.init(field: refused.field.rawValue, code: refused.code.rawValue, message: refused.message)])
        }
        guard let record = try await registry.debt(clientNum: client.num, externalID: externalID) else { throw APIError.notFound("Dívida") }
        return CorrectionJSON(debt: DebtResponse(record), changed: outcome.changed, duplicate: outcome.changed.isEmpty)
    }

    /// 409 for a debt out of collection, saying why.
    static func closed(_ status: DebtStatus) -> APIError {
        APIError(.conflict, code: "debt_closed", message: status == .withdrawn
            ? "A dívida foi baixada pelo credor."
            : "A dívida foi recusada na análise.")
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

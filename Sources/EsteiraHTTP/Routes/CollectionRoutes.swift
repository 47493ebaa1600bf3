import EsteiraCore
import EsteiraDocuments
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/collection`: the client's collection settings (bank, agency, account, wallet, PIX key,
/// beneficiary, days to fall due); and each debt's bankslip, as JSON and as a printable page.
struct CollectionRoutes {
    let db: any SQLDatabase
    var store: BankslipStore { BankslipStore(db: db) }

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.get("collection", use: getSettings)
        group.put("collection", use: putSettings)
        group.get("debts/:external_id/bankslip", use: slipJSON)
        group.get("debts/:external_id/bankslip.html", use: slipPage)
    }

    struct SettingsJSON: Codable, ResponseEncodable {
        var bank: String
        var agency: String
        var account: String
        var wallet: String
        var pixKey: String
        var beneficiaryName: String
        var beneficiaryCity: String
        var dueDays: Int

        enum CodingKeys: String, CodingKey {
            case bank, agency, account, wallet, pixKey = "pix_key", beneficiaryName = "beneficiary_name",
                 beneficiaryCity = "beneficiary_city", dueDays = "due_days"
        }

        init(_ s: CollectionSettings) {
            bank = s.bank
            agency = s.agency
            account = s.account
            wallet = s.wallet
            pixKey = s.pixKey
            beneficiaryName = s.beneficiaryName
            beneficiaryCity = s.beneficiaryCity
            dueDays = s.dueDays
        }

        var settings: CollectionSettings {
            CollectionSettings(bank: bank, agency: agency, account: account, wallet: wallet, pixKey: pixKey,
                               beneficiaryName: beneficiaryName, beneficiaryCity: beneficiaryCity, dueDays: dueDays)
        }
    }

    @Sendable func getSettings(_ request: Request, context: EsteiraRequestContext) async throws -> SettingsJSON {
        let client = try context.requireClient()
        guard let s = try await store.settings(clientID: client.id) else { throw APIError.notFound("Configuração de cobrança") }
        return SettingsJSON(s)
    }

    /// 200 with the settings saved; 400 not the JSON asked; 422 a field out of its rules, named.
    @Sendable func putSettings(_ request: Request, context: EsteiraRequestContext) async throws -> SettingsJSON {
        let client = try context.requireClient()
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let json = try? JSONDecoder().decode(SettingsJSON.self, from: Data(body.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_json", message: """
                O corpo deve ser {"bank", "agency", "account", "wallet", "pix_key", "beneficiary_name", "beneficiary_city", "due_days"}.
                """)
        }
        if let problem = json.settings.problem() {
            throw APIError(.unprocessableContent, code: "invalid_settings", message: problem.message, field: problem.field)
        }
        try await store.save(json.settings, clientID: client.id)
        return json
    }

    struct SlipJSON: ResponseEncodable {
        var externalID: String
        var ourNumber: Int64
        var amount: String
        var amountCents: Int64
        var dueDate: String
        var barcode: String
        var digitableLine: String
        var pixCopyPaste: String
        /// The slip's e-mail to the debtor; absent when the debt has no address.
        var email: Email?

        struct Email: Encodable {
            var to: String
            var state: String
            var attempts: Int
            var error: String?
            var sentAt: String?
            enum CodingKeys: String, CodingKey { case to, state, attempts, error, sentAt = "sent_at" }
        }

        enum CodingKeys: String, CodingKey {
            case externalID = "external_id", ourNumber = "our_number", amount, amountCents = "amount_cents", dueDate = "due_date",
                 barcode, digitableLine = "digitable_line", pixCopyPaste = "pix_copia_e_cola", email
        }
    }

    /// The debt's open slip, issued now if the debt was registered before the settings were saved.
    func slip(_ context: EsteiraRequestContext) async throws -> (DebtRecord, Bankslip, CollectionSettings) {
        let client = try context.requireClient()
        let raw = context.parameters.get("external_id") ?? ""
        let externalID = raw.removingPercentEncoding ?? raw
        guard let debt = try await DebtRegistry(db: db).debt(clientNum: client.num, externalID: externalID) else {
            throw APIError.notFound("Dívida")
        }
        if let status = DebtStatus(rawValue: debt.status), status.isOutOfCollection {
            throw APIError(.conflict, code: "debt_closed", message: status == .withdrawn
                ? "A dívida foi baixada pelo credor e não tem mais boleto."
                : "A dívida foi recusada na análise e não tem boleto.")
        }
        guard let settings = try await store.settings(clientID: client.id) else {
            throw APIError(.conflict, code: "no_collection_settings",
                           message: "Cadastre a configuração de cobrança (PUT /v1/collection) antes de emitir boletos.")
        }
        let found: Bankslip?
        do {
            found = try await store.openSlip(clientID: client.id, clientNum: client.num, debt: SlipRequest(debt.debt), today: Day(Date(), in: Day.saoPaulo))
        } catch SlipRefusal.paid {
            throw APIError(.conflict, code: "debt_paid", message: "A dívida está paga; não há boleto em aberto.")
        }
        guard let slip = found else { throw APIError.notFound("Boleto") }
        return (debt, slip, settings)
    }

    @Sendable func slipJSON(_ request: Request, context: EsteiraRequestContext) async throws -> SlipJSON {
        let (debt, slip, _) = try await slip(context)
        let email = try await store.emailState(clientNum: try context.requireClient().num, externalID: debt.debt.externalID).map {
            SlipJSON.Email(to: $0.address, state: $0.state, attempts: $0.attempts, error: $0.error, sentAt: $0.sentAt.map(Timestamp.isoSeconds))
        }
        return SlipJSON(externalID: debt.debt.externalID, ourNumber: slip.ourNumber, amount: Money.decimalString(cents: slip.amountCents),
                        amountCents: slip.amountCents, dueDate: slip.dueDate.iso, barcode: slip.barcode,
                        digitableLine: slip.digitableLine, pixCopyPaste: slip.pixPayload, email: email)
    }

    /// A printable page, in Portuguese: the digitable line, the barcode in Interleaved 2 of 5
    /// and the PIX QR code, both drawn as SVG.
    @Sendable func slipPage(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let (debt, slip, settings) = try await slip(context)
        let html = try BankslipPage.html(slip, .init(externalID: debt.debt.externalID, payer: debt.debt.name, settings: settings))
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", ContentSecurityPolicy.name: ContentSecurityPolicy.bankslip],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

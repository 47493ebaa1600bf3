import EsteiraCore
import EsteiraStore
import Foundation
import Hummingbird

/// `/v1/debts/{external_id}/payments`: a debtor's payment, full or partial, recorded with the
/// debt's new status and open amount and the credit in the client's ledger, in one transaction
/// (docs/ledger.md).
struct PaymentRoutes {
    let db: any SQLDatabase
    let windowDays: Int

    func add(to group: RouterGroup<EsteiraRequestContext>) {
        group.post("debts/:external_id/payments", use: create)
        group.get("debts/:external_id/payments", use: list)
        group.post("debts/:external_id/payments/:payment_id/reversal", use: reverse)
    }

    var payments: DebtPayments { DebtPayments(db: db, ledger: LedgerStore(db: db)) }

    struct PaymentJSON: Encodable {
        var id: Int
        var amount: String
        var date: String
        var method: String
        var traceKey: String
        var ledgerEntryID: Int
        var createdAt: String
        @Nullable var reversedAt: String?
        enum CodingKeys: String, CodingKey {
            case id, amount, date, method, traceKey = "trace_key", ledgerEntryID = "ledger_entry_id", createdAt = "created_at",
                 reversedAt = "reversed_at"
        }

        init(_ p: DebtPayment) {
            id = p.id
            amount = Money.decimalString(cents: p.amountCents)
            date = p.paidOn.iso
            method = p.method
            traceKey = p.traceKey
            ledgerEntryID = p.ledgerEntryID
            createdAt = Timestamp.iso(p.createdAt)
            reversedAt = p.reversedAt.map(Timestamp.iso)
        }
    }

    struct OutcomeJSON: ResponseEncodable {
        var payment: PaymentJSON
        var debt: DebtStanding
        var replayed: Bool

        init(_ outcome: PaymentOutcome, externalID: String) {
            payment = PaymentJSON(outcome.payment)
            debt = DebtStanding(externalID: externalID, status: outcome.status, amountCents: outcome.debtAmountCents, paidCents: outcome.paidCents)
            replayed = outcome.replayed
        }
    }

    func externalID(_ context: EsteiraRequestContext) -> String {
        let raw = context.parameters.get("external_id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// `{"amount": "50.00", "date": "2026-11-21", "method": "pix", "trace_key"?: "<uuid>"}`: 201 with
    /// the payment and the debt's status, paid and open amounts; 200 with the first result when the
    /// same payment (trace key) comes again; 404 no such debt; 422 with the field and a code —
    /// P001 more than the open amount, P002 already paid, P003 unknown method, P004 trace key used
    /// by another payment, P005 the debt out of collection, P006 a date that is not a day or is
    /// after today, or the ledger's L-codes for the amount and the trace key. A payment is never
    /// refused for being old: its credit is dated the day it is received (docs/ledger.md).
    @Sendable func create(_ request: Request, context: EsteiraRequestContext) async throws -> Response {
        let client = try context.requireClient()
        let externalID = externalID(context)
        let body = try await request.body.collect(atMost: 16 * 1024)
        guard let o = try? JSONValue.parse(body.readableBytesView), let members = o.members else {
            throw APIError(.badRequest, code: "invalid_json",
                           message: #"O corpo deve ser {"amount": "50.00", "date": "AAAA-MM-DD", "method": "pix", "trace_key"?: "<uuid>"}."#)
        }
        let methodText = o["method"]?.string ?? ""
        guard let method = PaymentMethod(rawValue: methodText) else {
            throw APIError(.unprocessableContent, code: PaymentRule.invalidMethod.rawValue,
                           message: "Forma de pagamento \(methodText.prefix(30)) desconhecida; use \(PaymentMethod.allCases.map(\.rawValue).joined(separator: ", ")).",
                           field: "method")
        }
        let today = Day(Date(), in: Day.saoPaulo)
        let paidOn: Day
        switch DebtPayments.paidOn(o["date"]?.string ?? "", today: today) {
        case .success(let day): paidOn = day
        case .failure(let refusal): throw APIError(.unprocessableContent, code: refusal.rule.rawValue, message: refusal.message, field: refusal.field)
        }
        // The amount as the ledger reads it: a string, a JSON number or amount_cents.
        let parsed = LedgerRoutes.input(.object(members.filter { $0.key == "amount" || $0.key == "amount_cents" }))
        let input = DebtPayments.credit(externalID: externalID, amount: parsed.amount, amountCents: parsed.amountCents,
                                        paidOn: paidOn, receivedOn: today, method: method.rawValue,
                                        traceKey: o["trace_key"]?.string ?? UUID().uuidString.lowercased())
        let rules = LedgerRules(events: try await LedgerStore(db: db).eventsByCode(), today: today, windowDays: windowDays)
        do {
            let draft = try rules.check([input]).get()[0]
            let outcome = try await payments.record(clientNum: client.num, externalID: externalID, method: method, paidOn: paidOn, credit: draft,
                                                   actor: client.eventActor)
            var response = try OutcomeJSON(outcome, externalID: externalID).response(from: request, context: context)
            response.status = outcome.replayed ? .ok : .created
            return response
        } catch let rejection as LedgerRejection {
            let issue = rejection.issues[0]
            throw APIError(.unprocessableContent, code: issue.rule.rawValue, message: issue.message,
                           field: issue.field == "reference_date" ? "date" : issue.field)
        } catch let refusal as PaymentRefusal {
            throw APIError(.unprocessableContent, code: refusal.rule.rawValue, message: refusal.message, field: refusal.field)
        } catch StoreError.notFound {
            throw APIError.notFound("Dívida")
        }
    }

    /// 200 with the payment (now with `reversed_at`) and the debt's status, paid and open amounts;
    /// the same again answers the first reversal (`replayed`); 404 no such debt or payment.
    @Sendable func reverse(_ request: Request, context: EsteiraRequestContext) async throws -> OutcomeJSON {
        let client = try context.requireClient()
        let externalID = externalID(context)
        guard let paymentID = context.parameters.get("payment_id").flatMap({ Int($0) }) else { throw APIError.notFound("Pagamento") }
        do {
            let outcome = try await payments.reverse(clientNum: client.num, externalID: externalID, paymentID: paymentID, actor: client.eventActor)
            return OutcomeJSON(outcome, externalID: externalID)
        } catch StoreError.notFound {
            throw APIError.notFound("Pagamento")
        }
    }

    @Sendable func list(_ request: Request, context: EsteiraRequestContext) async throws -> ItemsResponse<PaymentJSON> {
        let client = try context.requireClient()
        let externalID = externalID(context)
        guard try await DebtRegistry(db: db).debt(clientNum: client.num, externalID: externalID) != nil else { throw APIError.notFound("Dívida") }
        return ItemsResponse(items: try await payments.payments(clientNum: client.num, externalID: externalID).map(PaymentJSON.init))
    }
}

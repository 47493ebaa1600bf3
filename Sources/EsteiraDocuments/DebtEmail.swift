import EsteiraCore
import Foundation

/// The e-mail a client's address gets for a change of a registered debt it subscribed to
/// (`debt.corrected`, `debt.withdrawn`, `debt.paid`, `debt.review_decided`). Made from the
/// notice's payload (the webhook's body, docs/portfolio.md), so it tells the debt as the change
/// left it.
public enum DebtEmail {
    /// What the e-mail reads of the notice.
    struct Notice: Decodable {
        struct Debt: Decodable {
            var externalID: String
            var status: String
            var amount: String
            var paid: String
            var open: String
            enum CodingKeys: String, CodingKey { case externalID = "external_id", status, amount, paid, open }
        }

        struct Change: Decodable {
            var before: String?
            var after: String?
        }

        struct Details: Decodable {
            var changes: [String: Change]?
            var reason: String?
            var note: String?
            var decision: String?
            var amount: String?
            var paidOn: String?
            enum CodingKeys: String, CodingKey { case changes, reason, note, decision, amount, paidOn = "paid_on" }
        }

        var event: String
        var actor: DebtEventActor
        var details: Details
        var debt: Debt
    }

    static let reasonNames = [
        "pago_ao_credor": "pago ao credor", "acordo_direto": "acordo direto", "enviado_por_engano": "enviada por engano",
        "prescrita": "prescrita", "decisao_judicial": "decisão judicial", "obito": "óbito", "ausente_da_carteira": "ausente da carteira",
        "outro": "outro",
    ]

    /// `1234.56` as `R$ 1.234,56`; anything else as it is.
    static func money(_ decimal: String?) -> String {
        guard let decimal, case .success(let cents) = Money.parseCents(decimal[...], format: .dot) else { return decimal ?? "—" }
        return Money.brazilian(cents: cents)
    }

    public static func compose(payload: String) throws -> EmailContent {
        let n = try JSONDecoder().decode(Notice.self, from: Data(payload.utf8))
        let id = n.debt.externalID
        let subject: String
        var lines: [String]
        switch n.event {
        case "debt.corrected":
            subject = "Dívida \(id) alterada"
            lines = ["A dívida \(id) foi alterada:"]
            for (field, change) in (n.details.changes ?? [:]).sorted(by: { $0.key < $1.key }) {
                let name = DebtField(rawValue: field)?.portugueseName ?? field
                let show = { (v: String?) in field == DebtField.amount.rawValue ? money(v) : (v ?? "—") }
                lines.append("  \(name): \(show(change.before)) → \(show(change.after))")
            }
        case "debt.withdrawn":
            subject = "Dívida \(id) baixada"
            lines = ["A dívida \(id) foi baixada. Motivo: \(reasonNames[n.details.reason ?? ""] ?? n.details.reason ?? "—")."]
            if let note = n.details.note { lines.append("Observação: \(note)") }
        case "debt.paid":
            subject = "Pagamento de \(money(n.details.amount)) na dívida \(id)"
            lines = ["Um pagamento de \(money(n.details.amount)) foi registrado na dívida \(id)"
                     + (n.details.paidOn.flatMap(Day.parseISO).map { ", feito em \($0.brazilian)." } ?? ".")]
        default:
            let approved = n.details.decision == "approve"
            subject = "Dívida \(id) \(approved ? "aprovada" : "rejeitada") na análise"
            lines = ["A análise da dívida \(id) terminou: \(approved ? "aprovada, ela segue em cobrança" : "rejeitada, ela sai de cobrança")."]
            if let note = n.details.note { lines.append("Observação: \(note)") }
        }
        let by: String = switch n.actor.kind {
        case .batch: "pelo lote \(n.actor.id)" + (n.actor.line.map { ", linha \($0)" } ?? "")
        case .apiKey: "pela chave de API \(n.actor.id)"
        case .operator: "pela equipe da agência"
        case .esteira: "pela Esteira"
        }
        lines += ["Feita \(by).", "",
                  "Situação: \(DebtStatus(rawValue: n.debt.status)?.portugueseName ?? n.debt.status). Valor \(money(n.debt.amount)), pago \(money(n.debt.paid)), "
                  + "em aberto \(money(n.debt.open))."]
        let text = "Olá,\n\n" + lines.joined(separator: "\n") + "\n\nEsta mensagem foi enviada automaticamente pela Esteira.\n"
        let values: [String: Any] = ["subject": subject, "lines": lines.filter { !$0.isEmpty }]
        return EmailContent(subject: subject, text: text, html: Documents.library.render(values, withTemplate: "aviso-email") ?? "")
    }
}

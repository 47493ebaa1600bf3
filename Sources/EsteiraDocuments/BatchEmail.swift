import EsteiraCore
import Foundation

/// The e-mail a client gets when a batch ends (or stalls): what happened, the counts, and links to the
/// batch's page and its reject report. Made from the notification's payload (the webhook's body),
/// so the e-mail tells what the batch was when its status changed, whenever it is sent.
public enum BatchEmail {
    /// `publicURL`: where the client's browser reaches Esteira (`https://esteira.example.com`);
    /// without it the e-mail names the batch but has no links.
    public static func compose(payload: String, publicURL: String?) throws -> EmailContent {
        let notice = try JSONDecoder().decode(BatchEventPayload.self, from: Data(payload.utf8))
        let b = notice.batch
        let name = b.fileName ?? b.source
        let outcome: String
        let subject: String
        switch b.status {
        case "failed":
            subject = "Lote \(name) não processado"
            outcome = "não pôde ser processado: \(b.error ?? "o arquivo não pôde ser lido.")"
        case "stalled":
            subject = "Lote \(name) parado: aguardando a equipe de operação"
            outcome = "parou durante o processamento. \(b.stalled?.reason ?? "")"
        case "completed_with_rejects":
            subject = "Lote \(name) processado, com \(Documents.count(b.counts.rejected)) rejeitada\(b.counts.rejected == 1 ? "" : "s")"
            outcome = "foi processado. Algumas linhas foram rejeitadas; o relatório diz a linha, o campo e o motivo de cada uma."
        default:
            subject = "Lote \(name) processado"
            outcome = "foi processado sem rejeições."
        }
        let base = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let page = base.map { "\($0)/app/lotes/\(b.id)" }
        let report = b.counts.rejected > 0 ? base.map { "\($0)/app/lotes/\(b.id)/rejeitados.csv" } : nil
        // Alteradas and Baixadas only for a file that had corrections or withdrawals: most have none.
        let operations = [("Alteradas", b.counts.updated ?? 0), ("Baixadas", b.counts.withdrawn ?? 0)]
        let counts: [(String, Int)] = [("Recebidas", b.counts.received), ("Registradas", b.counts.registered)]
            + (operations.contains { $0.1 > 0 } ? operations : [])
            + [("Duplicadas", b.counts.duplicates), ("Rejeitadas", b.counts.rejected), ("Em revisão", b.counts.review ?? 0)]

        var text = "Olá,\n\nO lote \(name) (\(b.id)) \(outcome)\n\n"
        if b.status != "failed" || b.counts.received > 0 {
            for (label, n) in counts { text += "\(label): \(Documents.count(n))\n" }
            text += "\n"
        }
        if let page { text += "Ver o lote: \(page)\n" }
        if let report { text += "Relatório de rejeitadas (CSV): \(report)\n" }
        text += "\nEsta mensagem foi enviada automaticamente pela Esteira; não é preciso respondê-la.\n"

        let values: [String: Any] = [
            "name": name, "id": b.id, "outcome": outcome, "failed": b.status == "failed" && b.counts.received == 0,
            "counts": counts.map { ["label": $0.0, "n": Documents.count($0.1)] }, "page": page ?? false, "report": report ?? false,
        ]
        return EmailContent(subject: subject, text: text, html: Documents.library.render(values, withTemplate: "lote-email") ?? "")
    }

    static let htmlTemplate = #"""
    <!doctype html>
    <html lang="pt-BR"><head><meta charset="utf-8"><title>Lote {{name}}</title></head>
    <body style="font-family:system-ui,sans-serif;color:#1d2733;max-width:36rem">
    <p>Olá,</p>
    <p>O lote <b>{{name}}</b> ({{id}}) {{outcome}}</p>
    {{^failed}}<table style="border-collapse:collapse">
    {{#counts}}<tr><td style="padding:.2rem 1rem .2rem 0">{{label}}</td><td style="text-align:right"><b>{{n}}</b></td></tr>
    {{/counts}}</table>{{/failed}}
    {{#page}}<p><a href="{{page}}">Ver o lote</a>{{#report}} · <a href="{{report}}">Relatório de rejeitadas (CSV)</a>{{/report}}</p>{{/page}}
    <p style="color:#5b6776;font-size:.85rem">Esta mensagem foi enviada automaticamente pela Esteira; não é preciso respondê-la.</p>
    </body></html>
    """#
}

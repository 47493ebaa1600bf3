import EsteiraCore
import Foundation

/// The e-mail operators get for an alert of the agency's own: a month's lake files late, a lake
/// run failed or completed, the lake over its budget, a job out of attempts, or a client's
/// notification given up. Made from the alert's payload (the webhook's body).
public enum AlertEmail {
    /// What each kind of job does, as an operator reads it.
    static let stageNames = [
        "pick": "separação", "transform": "transformação", "register": "registro", "finalize": "fechamento",
        "ledger": "lançamento no livro-caixa", "lake": "etapa do lago",
    ]

    public static func compose(payload: String) throws -> EmailContent {
        let n = try JSONDecoder().decode(AlertPayload.self, from: Data(payload.utf8))
        let subject: String
        var lines: [String]
        let month = n.month ?? "?"
        switch n.event {
        case "job.dead":
            let kind = n.kind ?? "?"
            let stage = stageNames[kind].map { "\($0) (\(kind))" } ?? kind
            let job = n.job.map(String.init) ?? "?"
            // What the job works on: a lake run, a ledger request, a batch (transform and register: one sub-batch of it).
            let id = n.batchID ?? "?"
            let target = switch kind {
            case "lake": "da execução \(id)"
            case "ledger": "do pedido \(id)"
            case "transform", "register": "do lote \(id), sub-lote \(n.seq ?? 0)"
            default: "do lote \(id)"
            }
            subject = "Esteira: tarefa \(job) parada depois de \(n.attempts ?? 0) tentativas"
            lines = ["A tarefa \(job), \(stage) \(target), falhou \(n.attempts ?? 0) vezes e parou:",
                     "  \(n.error ?? "erro desconhecido")", "",
                     "Nada se perdeu: a tarefa espera, parada, até ser retomada (o lote fica parado até lá, e o cliente foi avisado). "
                     + "Corrija a causa e "
                     + "execute esteira jobs retry \(job) (esteira jobs list --state dead mostra as tarefas paradas)."]
        case "notification.dead":
            let channel = n.channel == "email" ? "O e-mail" : "O webhook"
            subject = "Esteira: aviso \(n.notification ?? 0) a um cliente não entregue"
            lines = ["\(channel) \(n.notificationEvent ?? "?") ao cliente \(n.clientID ?? "?") (sobre \(n.batchID ?? "?")) "
                     + "não foi entregue depois de \(n.attempts ?? 0) tentativas:",
                     "  \(n.error ?? "erro desconhecido")", "",
                     "O cliente não foi avisado. Corrija o destino com o cliente e reenvie o aviso "
                     + "(POST /v1/notifications/\(n.notification ?? 0)/redeliver, com a chave do cliente)."]
        case "lake.run_completed":
            subject = "Lago: o processamento de \(month) terminou"
            lines = ["Todas as etapas do mês \(month) terminaram (execução \(n.run ?? "?")).",
                     "", "Veja GET /v1/admin/lake/runs para os detalhes de cada etapa."]
        case "lake.files_late":
            let missing = n.missing ?? []
            subject = "Lago: arquivos de \(month) atrasados"
            lines = ["Os arquivos do mês \(month) deviam ter chegado até o dia \(n.dueDay ?? 0) e ainda faltam:"]
                + missing.map { "  - \($0)" }
                + ["", "Quando os dois estiverem na caixa de entrada do lago (lake/inbox/), o mês será processado sozinho."]
        case "lake.over_budget":
            subject = "Lago acima do orçamento de armazenamento"
            lines = ["Depois do processamento de \(month), o lago ocupa \(Documents.count(n.bytes ?? 0)) bytes, acima do orçamento de "
                     + "\(Documents.count(n.budget ?? 0)) bytes (ESTEIRA_LAKE_BUDGET_BYTES).",
                     "", "Veja esteira_lake_bytes em /metrics, por camada."]
        default:
            subject = "Lago: o processamento de \(month) falhou"
            lines = ["O processamento do mês \(month) parou na etapa \(n.step ?? "?"):", "  \(n.error ?? "erro desconhecido")", "",
                     "Execução \(n.run ?? "?"); veja GET /v1/admin/lake/runs e esteira jobs list --state dead."]
        }
        let text = "Olá,\n\n" + lines.joined(separator: "\n") + "\n\nEsta mensagem foi enviada automaticamente pela Esteira.\n"
        let values: [String: Any] = ["subject": subject, "lines": lines.filter { !$0.isEmpty }]
        return EmailContent(subject: subject, text: text, html: Documents.library.render(values, withTemplate: "alerta-email") ?? "")
    }

    static let htmlTemplate = #"""
    <!doctype html>
    <html lang="pt-BR"><head><meta charset="utf-8"><title>{{subject}}</title></head>
    <body style="font-family:system-ui,sans-serif;color:#1d2733;max-width:36rem">
    <p>Olá,</p>
    {{#lines}}<p style="margin:.3rem 0">{{.}}</p>
    {{/lines}}
    <p style="color:#5b6776;font-size:.85rem">Esta mensagem foi enviada automaticamente pela Esteira.</p>
    </body></html>
    """#
}

import EsteiraCore
import Foundation

/// The API's contract: every `/v1` operation with its parameters, body, answers and who may call
/// it. Written by hand, next to the routes, rather than generated: the routes stream uploads,
/// answer CSV and HTML, and take amounts as exact text, which swift-openapi-generator's typed
/// handlers would have to work around (docs/api.md). `APIContractRouteTests` keeps the two in
/// step: a route the contract lacks, or an operation no route answers, fails it.
///
/// `OpenAPIDocument` writes it as OpenAPI 3.1 (`/openapi.json`); `APIDocsPage` as a page (`/docs`).
enum APIContract {
    /// Who may call an operation.
    enum Access: Equatable {
        /// A client's key.
        case client
        /// An operator's key of at least this role.
        case operatorRole(OperatorRole)
    }

    /// What a request or an answer carries.
    enum Content {
        case json(JSONValue)
        case csv
        case html
        /// A client's file, as sent (CSV, TXT, XLSX).
        case file
    }

    struct Parameter {
        enum Place: String { case path, query }
        var name: String
        var place: Place
        var description: String
        var schema: JSONValue = ["type": "string"]
        var required: Bool { place == .path }
    }

    struct Answer {
        var status: Int
        var description: String
        var content: Content?
    }

    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var access: Access
        var parameters: [Parameter] = []
        var body: Content? = nil
        var answers: [Answer]
        /// Error codes this operation may answer besides the common ones (docs/rejects.md).
        var errors: [String] = []

        var id: String {
            let words = path.split(separator: "/").dropFirst().map { part -> String in
                part.hasPrefix("{") ? "by_" + part.dropFirst().dropLast() : part.replacingOccurrences(of: ".", with: "_")
                    .replacingOccurrences(of: "-", with: "_")
            }
            return ([method] + words).joined(separator: "_")
        }
    }

    // MARK: - Building blocks

    static func path(_ name: String, _ description: String) -> Parameter { Parameter(name: name, place: .path, description: description) }
    static func query(_ name: String, _ description: String, _ schema: JSONValue = ["type": "string"]) -> Parameter {
        Parameter(name: name, place: .query, description: description, schema: schema)
    }
    static let paging = [query("page", "Página, a partir de 1.", ["type": "integer", "minimum": 1]),
                         query("per_page", "Itens por página, de 1 a 500 (padrão 50).", ["type": "integer", "minimum": 1, "maximum": 500])]

    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func ok(_ schema: JSONValue, _ description: String = "Feito.") -> Answer { Answer(status: 200, description: description, content: .json(schema)) }
    static func created(_ schema: JSONValue, _ description: String = "Criado.") -> Answer { Answer(status: 201, description: description, content: .json(schema)) }
    static func accepted(_ schema: JSONValue, _ description: String = "Aceito; segue em segundo plano.") -> Answer {
        Answer(status: 202, description: description, content: .json(schema))
    }
    static let noContent = Answer(status: 204, description: "Feito; sem corpo.", content: nil)
    static let object: JSONValue = ["type": "object"]
    static let page: JSONValue = ref("Page")
    /// An object with these string members required (more may come).
    static func body(_ required: [String], _ properties: [String: JSONValue] = [:]) -> JSONValue {
        var props: [JSONValue.Member] = []
        for name in (Set(required).union(properties.keys)).sorted() {
            props.append(.init(key: name, value: properties[name] ?? ["type": "string"]))
        }
        return ["type": "object", "required": .array(required.map { .string($0) }), "properties": .object(props)]
    }
    static let amount: JSONValue = ["type": "string", "description": "Valor em reais: 1234,56 ou 1234.56 (um valor ambíguo é recusado)."]

    // MARK: - The operations

    static let operations: [Operation] = batches + debts + portfolio + collection + notifications + ledger + risk + keys + admin

    static let batches: [Operation] = [
        Operation(method: "post", path: "/v1/batches", summary: "Envia um arquivo (CSV, TXT, XLSX) como um lote.", tag: "Lotes", access: .client,
                  parameters: [query("file_name", "Nome do arquivo."), query("format", "Formato salvo a aplicar."),
                               query("dry_run", "true: só a prévia, nada é registrado.", ["type": "string", "enum": ["true", "false"]]),
                               query("portfolio", "full: o arquivo é a carteira inteira.", ["type": "string", "enum": ["full", "partial"]])],
                  body: .file, answers: [accepted(ref("Batch"))], errors: ["quota_exceeded", "too_large", "empty_file"]),
        Operation(method: "get", path: "/v1/batches", summary: "Lista os lotes do cliente.", tag: "Lotes", access: .client,
                  parameters: paging + [query("status", "Situação do lote.")], answers: [ok(page)]),
        Operation(method: "get", path: "/v1/batches/{id}", summary: "Um lote, com suas contagens.", tag: "Lotes", access: .client,
                  parameters: [path("id", "O lote."), query("wait", "Segundos a esperar pelo fim do lote (até 30).", ["type": "integer", "minimum": 0])],
                  answers: [ok(ref("Batch"))]),
        Operation(method: "get", path: "/v1/batches/{id}/rejects", summary: "As linhas recusadas de um lote.", tag: "Lotes", access: .client,
                  parameters: [path("id", "O lote.")] + paging, answers: [ok(page)]),
        Operation(method: "get", path: "/v1/batches/{id}/rejects.csv", summary: "As linhas recusadas, em CSV.", tag: "Lotes", access: .client,
                  parameters: [path("id", "O lote.")], answers: [Answer(status: 200, description: "CSV.", content: .csv)]),
        Operation(method: "get", path: "/v1/batches/{id}/preview", summary: "A prévia de um lote enviado com dry_run.", tag: "Lotes", access: .client,
                  parameters: [path("id", "O lote.")], answers: [ok(object)]),
        Operation(method: "post", path: "/v1/batches/{id}/confirm", summary: "Confirma uma prévia: o lote segue e registra.", tag: "Lotes",
                  access: .client, parameters: [path("id", "O lote.")], answers: [accepted(ref("Batch"))]),
        Operation(method: "get", path: "/v1/batches/{id}/missing", summary: "Dívidas abertas ausentes de uma carteira inteira.", tag: "Lotes",
                  access: .client, parameters: [path("id", "O lote.")] + paging, answers: [ok(page)]),
        Operation(method: "get", path: "/v1/batches/{id}/missing.csv", summary: "As ausentes, em CSV.", tag: "Lotes", access: .client,
                  parameters: [path("id", "O lote.")], answers: [Answer(status: 200, description: "CSV.", content: .csv)]),
        Operation(method: "post", path: "/v1/submissions", summary: "Abre uma submissão (dívidas enviadas aos poucos).", tag: "Submissões",
                  access: .client, answers: [created(ref("Submission"))]),
        Operation(method: "get", path: "/v1/submissions/{id}", summary: "Uma submissão.", tag: "Submissões", access: .client,
                  parameters: [path("id", "A submissão.")], answers: [ok(ref("Submission"))]),
        Operation(method: "post", path: "/v1/submissions/{id}/debts", summary: "Acrescenta dívidas (um objeto ou uma lista).", tag: "Submissões",
                  access: .client, parameters: [path("id", "A submissão.")], body: .json(["oneOf": [ref("DebtInput"), ["type": "array", "items": ref("DebtInput")]]]),
                  answers: [ok(["type": "object", "required": ["added", "lines"],
                                "properties": ["added": ["type": "integer"], "lines": ["type": "integer"]]])]),
        Operation(method: "post", path: "/v1/submissions/{id}/submit", summary: "Fecha a submissão: vira um lote.", tag: "Submissões",
                  access: .client, parameters: [path("id", "A submissão.")], answers: [accepted(ref("Batch"))]),
    ]

    static let debts: [Operation] = [
        Operation(method: "post", path: "/v1/debts", summary: "Registra uma dívida.", tag: "Dívidas", access: .client,
                  body: .json(ref("DebtInput")), answers: [created(object)], errors: ["R001", "R002", "R003", "R004", "R009", "quota_exceeded"]),
        Operation(method: "get", path: "/v1/debts", summary: "Lista as dívidas do cliente, com filtros.", tag: "Dívidas", access: .client,
                  parameters: debtFilters + paging, answers: [ok(page)]),
        Operation(method: "get", path: "/v1/debts.csv", summary: "A carteira, em CSV, com os mesmos filtros.", tag: "Dívidas", access: .client,
                  parameters: debtFilters, answers: [Answer(status: 200, description: "CSV.", content: .csv)]),
        Operation(method: "get", path: "/v1/debts/{external_id}", summary: "Uma dívida.", tag: "Dívidas", access: .client,
                  parameters: [path("external_id", "O identificador da dívida no cliente.")], answers: [ok(ref("Debt"))]),
        Operation(method: "post", path: "/v1/debts/{external_id}/payments", summary: "Registra um pagamento.", tag: "Pagamentos", access: .client,
                  parameters: [path("external_id", "A dívida.")],
                  body: .json(body(["amount", "date", "method"], ["amount": amount, "trace_key": ["type": "string"]])),
                  answers: [ok(object, "O mesmo pagamento, repetido."), created(object)], errors: ["P001", "P003", "P004", "P006", "L006"]),
        Operation(method: "get", path: "/v1/debts/{external_id}/payments", summary: "Os pagamentos de uma dívida.", tag: "Pagamentos",
                  access: .client, parameters: [path("external_id", "A dívida.")], answers: [ok(object)]),
        Operation(method: "post", path: "/v1/debts/{external_id}/payments/{payment_id}/reversal", summary: "Estorna um pagamento.",
                  tag: "Pagamentos", access: .client, parameters: [path("external_id", "A dívida."), path("payment_id", "O pagamento.")],
                  answers: [ok(object)]),
    ]

    static let debtFilters: [Parameter] = [
        query("document", "CPF ou CNPJ do devedor."), query("status", "Situação da dívida."), query("review", "true: só as em revisão."),
        query("batch", "O lote que a registrou."), query("due_from", "Vencimento a partir de (AAAA-MM-DD)."),
        query("due_to", "Vencimento até (AAAA-MM-DD)."), query("registered_from", "Registrada a partir de (AAAA-MM-DD)."),
        query("registered_to", "Registrada até (AAAA-MM-DD)."), query("updated_since", "Mudou desde (data e hora ISO 8601)."),
    ]

    static let portfolio: [Operation] = [
        Operation(method: "patch", path: "/v1/debts/{external_id}", summary: "Corrige uma dívida (valor, vencimento, nome, contato, descrição).",
                  tag: "Carteira", access: .client, parameters: [path("external_id", "A dívida.")], body: .json(object), answers: [ok(object)]),
        Operation(method: "post", path: "/v1/debts/{external_id}/withdrawal", summary: "Baixa uma dívida, com o motivo.", tag: "Carteira",
                  access: .client, parameters: [path("external_id", "A dívida.")],
                  body: .json(body(["reason"], ["reason": ["type": "string", "enum": .array(WithdrawalReason.allCases.map { .string($0.rawValue) })],
                                               "note": ["type": ["string", "null"]]])),
                  answers: [ok(object)]),
        Operation(method: "get", path: "/v1/debts/{external_id}/history", summary: "O histórico de uma dívida.", tag: "Carteira", access: .client,
                  parameters: [path("external_id", "A dívida.")], answers: [ok(ref("Items"))]),
        Operation(method: "get", path: "/v1/portfolio", summary: "As regras de carteira do cliente.", tag: "Carteira", access: .client,
                  answers: [ok(object)]),
        Operation(method: "put", path: "/v1/portfolio", summary: "Salva as regras de carteira.", tag: "Carteira", access: .client,
                  body: .json(object), answers: [ok(object)]),
        Operation(method: "get", path: "/v1/formats", summary: "Os formatos de arquivo salvos.", tag: "Formatos", access: .client,
                  answers: [ok(["type": "object", "required": ["data"], "properties": ["data": ["type": "array"]]])]),
        Operation(method: "get", path: "/v1/formats/{name}", summary: "Um formato salvo.", tag: "Formatos", access: .client,
                  parameters: [path("name", "O nome do formato.")], answers: [ok(object)]),
        Operation(method: "put", path: "/v1/formats/{name}", summary: "Salva um formato.", tag: "Formatos", access: .client,
                  parameters: [path("name", "O nome do formato.")], body: .json(object), answers: [ok(object), created(object)]),
        Operation(method: "delete", path: "/v1/formats/{name}", summary: "Apaga um formato.", tag: "Formatos", access: .client,
                  parameters: [path("name", "O nome do formato.")], answers: [noContent]),
    ]

    static let collection: [Operation] = [
        Operation(method: "get", path: "/v1/collection", summary: "A configuração de cobrança (boleto e PIX).", tag: "Cobrança",
                  access: .client, answers: [ok(object)]),
        Operation(method: "put", path: "/v1/collection", summary: "Salva a configuração de cobrança.", tag: "Cobrança", access: .client,
                  body: .json(object), answers: [ok(object)]),
        Operation(method: "get", path: "/v1/debts/{external_id}/bankslip", summary: "O boleto aberto da dívida.", tag: "Cobrança",
                  access: .client, parameters: [path("external_id", "A dívida.")], answers: [ok(object)]),
        Operation(method: "get", path: "/v1/debts/{external_id}/bankslip.html", summary: "O boleto para imprimir.", tag: "Cobrança",
                  access: .client, parameters: [path("external_id", "A dívida.")], answers: [Answer(status: 200, description: "A página.", content: .html)]),
    ]

    static let notifications: [Operation] = [
        Operation(method: "post", path: "/v1/webhooks", summary: "Assina eventos por webhook.", tag: "Avisos", access: .client,
                  body: .json(body(["url", "events"], ["events": ["type": "array", "items": ["type": "string"]]])), answers: [created(object)]),
        Operation(method: "get", path: "/v1/webhooks", summary: "Os webhooks.", tag: "Avisos", access: .client, answers: [ok(ref("Items"))]),
        Operation(method: "delete", path: "/v1/webhooks/{id}", summary: "Remove um webhook.", tag: "Avisos", access: .client,
                  parameters: [path("id", "O webhook.")], answers: [noContent]),
        Operation(method: "post", path: "/v1/email-recipients", summary: "Assina eventos por e-mail.", tag: "Avisos", access: .client,
                  body: .json(body(["address", "events"], ["events": ["type": "array", "items": ["type": "string"]]])), answers: [created(object)]),
        Operation(method: "get", path: "/v1/email-recipients", summary: "Os destinatários de e-mail.", tag: "Avisos", access: .client,
                  answers: [ok(ref("Items"))]),
        Operation(method: "delete", path: "/v1/email-recipients/{id}", summary: "Remove um destinatário.", tag: "Avisos", access: .client,
                  parameters: [path("id", "O destinatário.")], answers: [noContent]),
        Operation(method: "get", path: "/v1/notifications", summary: "O registro de avisos de um lote ou dívida.", tag: "Avisos",
                  access: .client, parameters: [query("batch", "O lote, ou debt/<external_id>.")] + paging, answers: [ok(page)]),
        Operation(method: "post", path: "/v1/notifications/{id}/redeliver", summary: "Reenvia um aviso.", tag: "Avisos", access: .client,
                  parameters: [path("id", "O aviso.")], answers: [Answer(status: 202, description: "Será reenviado.", content: nil)]),
    ]

    static let ledger: [Operation] = [
        Operation(method: "post", path: "/v1/ledger/entries", summary: "Lança no razão (um ou vários lançamentos).", tag: "Razão",
                  access: .client, parameters: [query("async", "true: aceito e processado em segundo plano.")], body: .json(object),
                  answers: [ok(object, "O mesmo pedido, repetido."), created(object), accepted(object)]),
        Operation(method: "get", path: "/v1/ledger/entries", summary: "Os lançamentos de uma chave de rastreio.", tag: "Razão", access: .client,
                  parameters: [query("trace_key", "A chave de rastreio.")], answers: [ok(object)]),
        Operation(method: "get", path: "/v1/ledger/requests/{id}", summary: "Um pedido assíncrono ao razão.", tag: "Razão", access: .client,
                  parameters: [path("id", "O pedido.")], answers: [ok(object)]),
        Operation(method: "get", path: "/v1/ledger/accounts/{branch}/{account}/balances", summary: "Saldos por dia de uma conta.", tag: "Razão",
                  access: .client, parameters: [path("branch", "A agência."), path("account", "A conta"), query("from", "De (AAAA-MM-DD)."),
                                                 query("to", "Até (AAAA-MM-DD).")], answers: [ok(object)]),
        Operation(method: "get", path: "/v1/ledger/accounts/{branch}/{account}/statement", summary: "Extrato de uma conta.", tag: "Razão",
                  access: .client, parameters: [path("branch", "A agência."), path("account", "A conta"), query("from", "De (AAAA-MM-DD)."),
                                                 query("to", "Até (AAAA-MM-DD).")] + paging, answers: [ok(object)]),
    ]

    static let risk: [Operation] = [
        Operation(method: "post", path: "/v1/risk/analyze", summary: "Analisa o risco de uma dívida.", tag: "Risco", access: .client,
                  body: .json(body(["document", "amount"], ["amount": amount])), answers: [ok(object)], errors: ["R013"]),
        Operation(method: "get", path: "/v1/risk/decisions/{trace}", summary: "Uma decisão de risco.", tag: "Risco", access: .client,
                  parameters: [path("trace", "A chave de rastreio.")], answers: [ok(object)]),
        Operation(method: "get", path: "/v1/quota", summary: "Os limites do cliente e o uso do dia.", tag: "Chaves e limites", access: .client,
                  answers: [ok(object)]),
    ]

    static let keyBody: JSONValue = body([], ["name": ["type": "string"], "expires_at": ["type": ["string", "null"]],
                                                "rotate": ["type": ["string", "null"]], "overlap_hours": ["type": ["integer", "null"]]])

    static let keys: [Operation] = [
        Operation(method: "get", path: "/v1/keys", summary: "As chaves do cliente.", tag: "Chaves e limites", access: .client,
                  answers: [ok(ref("Items"))]),
        Operation(method: "post", path: "/v1/keys", summary: "Emite uma chave (mostrada uma vez).", tag: "Chaves e limites", access: .client,
                  body: .json(keyBody), answers: [created(object)]),
        Operation(method: "delete", path: "/v1/keys/{key}", summary: "Revoga uma chave.", tag: "Chaves e limites", access: .client,
                  parameters: [path("key", "O id da chave.")], answers: [noContent]),
    ] + ["clients", "operators"].flatMap { owner -> [Operation] in
        let who = owner == "clients" ? "um cliente" : "um operador"
        return [
            Operation(method: "get", path: "/v1/admin/\(owner)/{id}/keys", summary: "As chaves de \(who).", tag: "Administração",
                      access: .operatorRole(.admin), parameters: [path("id", "O dono.")], answers: [ok(ref("Items"))]),
            Operation(method: "post", path: "/v1/admin/\(owner)/{id}/keys", summary: "Emite uma chave para \(who).", tag: "Administração",
                      access: .operatorRole(.admin), parameters: [path("id", "O dono.")], body: .json(keyBody), answers: [created(object)]),
            Operation(method: "delete", path: "/v1/admin/\(owner)/{id}/keys/{key}", summary: "Revoga uma chave de \(who).", tag: "Administração",
                      access: .operatorRole(.admin), parameters: [path("id", "O dono."), path("key", "O id da chave.")], answers: [noContent]),
        ]
    }

    static let admin: [Operation] = [
        Operation(method: "put", path: "/v1/admin/blacklist/{document}", summary: "Põe um documento na lista de bloqueio.", tag: "Administração",
                  access: .operatorRole(.operator), parameters: [path("document", "CPF ou CNPJ.")], body: .json(body(["reason"])),
                  answers: [ok(object), created(object)]),
        Operation(method: "get", path: "/v1/admin/blacklist/{document}", summary: "Um documento da lista de bloqueio.", tag: "Administração",
                  access: .operatorRole(.viewer), parameters: [path("document", "CPF ou CNPJ.")], answers: [ok(object)]),
        Operation(method: "delete", path: "/v1/admin/blacklist/{document}", summary: "Tira um documento da lista.", tag: "Administração",
                  access: .operatorRole(.operator), parameters: [path("document", "CPF ou CNPJ.")], answers: [noContent]),
        Operation(method: "post", path: "/v1/admin/blacklist/import", summary: "Importa a lista de bloqueio (CSV).", tag: "Administração",
                  access: .operatorRole(.operator), body: .csv, answers: [ok(object)]),
        Operation(method: "put", path: "/v1/admin/clients/{id}/limits", summary: "Valores mínimo e máximo de um cliente.", tag: "Administração",
                  access: .operatorRole(.admin), parameters: [path("id", "O cliente.")],
                  body: .json(body([], ["max_amount": ["type": ["string", "null"]], "min_amount": ["type": ["string", "null"]]])), answers: [ok(object)]),
        Operation(method: "put", path: "/v1/admin/clients/{id}/quotas", summary: "Limites de requisições e de linhas por dia de um cliente.",
                  tag: "Administração", access: .operatorRole(.admin), parameters: [path("id", "O cliente.")],
                  body: .json(body([], ["requests_per_second": ["type": ["integer", "null"]], "rows_per_day": ["type": ["integer", "null"]]])),
                  answers: [ok(object)]),
        Operation(method: "post", path: "/v1/admin/reviews", summary: "Decide dívidas em revisão.", tag: "Administração",
                  access: .operatorRole(.operator), body: .json(body(["decisions"], ["decisions": ["type": "array", "items": object]])),
                  answers: [ok(object)]),
        Operation(method: "get", path: "/v1/admin/ledger/events", summary: "Os eventos do razão.", tag: "Administração",
                  access: .operatorRole(.viewer), answers: [ok(object)]),
        Operation(method: "put", path: "/v1/admin/ledger/events/{code}", summary: "Salva um evento do razão.", tag: "Administração",
                  access: .operatorRole(.operator), parameters: [path("code", "O código do evento.")], body: .json(object), answers: [ok(object)]),
        Operation(method: "get", path: "/v1/admin/lake/runs", summary: "As execuções do lago.", tag: "Administração",
                  access: .operatorRole(.viewer), answers: [ok(object)]),
        Operation(method: "post", path: "/v1/admin/alert-targets", summary: "Acrescenta um destino de alertas.", tag: "Administração",
                  access: .operatorRole(.operator), body: .json(object), answers: [created(object)]),
        Operation(method: "get", path: "/v1/admin/alert-targets", summary: "Os destinos de alertas.", tag: "Administração",
                  access: .operatorRole(.viewer), answers: [ok(object)]),
        Operation(method: "delete", path: "/v1/admin/alert-targets/{id}", summary: "Remove um destino de alertas.", tag: "Administração",
                  access: .operatorRole(.operator), parameters: [path("id", "O destino.")], answers: [noContent]),
        Operation(method: "get", path: "/v1/admin/alerts", summary: "Os alertas.", tag: "Administração", access: .operatorRole(.viewer),
                  parameters: paging, answers: [ok(object)]),
        Operation(method: "post", path: "/v1/admin/privacy/report", summary: "Onde um devedor aparece (LGPD art. 18).", tag: "Privacidade",
                  access: .operatorRole(.admin), body: .json(body(["document"])), answers: [ok(object)], errors: ["invalid_document"]),
        Operation(method: "post", path: "/v1/admin/privacy/erasure", summary: "Anonimiza um devedor sem dívidas abertas e após a guarda.",
                  tag: "Privacidade", access: .operatorRole(.admin), body: .json(body(["document"])), answers: [ok(object)],
                  errors: ["invalid_document", "erasure_refused"]),
    ]

    // MARK: - Schemas

    static let schemas: [String: JSONValue] = [
        "Error": ["type": "object", "required": ["error"], "properties": ["error": [
            "type": "object", "required": ["code", "message"],
            "properties": ["code": ["type": "string", "description": "O código estável do erro (docs/rejects.md)."],
                           "message": ["type": "string", "description": "A mensagem, em português."],
                           "field": ["type": "string"], "issues": ["type": "array", "items": ["type": "object"]]]]]],
        "Page": ["type": "object", "required": ["items"], "properties": ["items": ["type": "array"], "page": ["type": "integer"],
                                                                         "per_page": ["type": "integer"], "total": ["type": "integer"]]],
        "Items": ["type": "object", "required": ["items"], "properties": ["items": ["type": "array"]]],
        "Batch": ["type": "object", "required": ["id", "status"], "properties": ["id": ["type": "string"], "status": ["type": "string"]]],
        "Submission": ["type": "object", "required": ["id", "status"], "properties": ["id": ["type": "string"], "status": ["type": "string"]]],
        "Debt": ["type": "object", "required": ["external_id", "status"],
                 "properties": ["external_id": ["type": "string"], "status": ["type": "string"], "document": ["type": "string"]]],
        "DebtInput": body(["external_id", "name", "document", "amount", "due_date"],
                          ["amount": amount, "due_date": ["type": "string", "description": "AAAA-MM-DD ou DD/MM/AAAA."],
                           "email": ["type": ["string", "null"]], "phone": ["type": ["string", "null"]], "description": ["type": ["string", "null"]]]),
    ]
}
